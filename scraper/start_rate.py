"""How often a pool may start browsers: a crashing browser nor a failing site can start a storm."""
import time


class StartRate:
    """A token bucket for browser starts: `burst` at once, then one per `interval` seconds.
    Used by the one launcher thread only."""

    def __init__(self, burst, interval):
        self.burst = burst
        self.interval = interval
        self._tokens = float(burst)
        self._at = time.monotonic()

    def wait(self, cancelled):
        while True:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) / self.interval)
            self._at = now
            if self._tokens >= 1 or cancelled():
                self._tokens = max(0.0, self._tokens - 1)
                return
            time.sleep(min(0.2, (1 - self._tokens) * self.interval))
