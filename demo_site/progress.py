"""The generator's progress lines."""
import time


def log(message, started):
    print(f"build_index: {message} ({time.monotonic() - started:.1f} s)", flush=True)
