"""The threads that start (and retire) a pool's browsers, off the requests' path."""
import queue
import threading
from concurrent.futures import Future


class Launcher:
    """Daemon threads that start (and retire) browsers and live as long as the process. Jobs
    are bounded: at most one start per slot, one replacement and one retirement per browser.

    A local browser dies with the thread that started it (scraper/browser.py), so request
    threads must not start browsers, and neither may an executor whose threads are joined at
    interpreter exit before the pool's own exit hook has quit its browsers.
    """

    def __init__(self, threads):
        self._jobs = queue.Queue()
        self._threads = threads
        self._started = False
        self._lock = threading.Lock()
        self._unfinished = 0
        self._finished = threading.Condition(self._lock)

    def submit(self, function, *args):
        with self._lock:
            if not self._started:        # after any fork: threads do not survive one
                for n in range(self._threads):
                    threading.Thread(target=self._run, name=f"browser-launcher-{n}", daemon=True).start()
                self._started = True
            self._unfinished += 1
        future = Future()
        self._jobs.put((future, function, args))
        return future

    def drain(self, timeout):
        """Wait (up to `timeout` seconds) until every job submitted so far has run: a process that
        exits right after would otherwise end a start or a retirement halfway, its files left."""
        with self._finished:
            return self._finished.wait_for(lambda: self._unfinished == 0, timeout)

    def _run(self):
        while True:
            future, function, args = self._jobs.get()
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(function(*args))
                    except BaseException as error:
                        future.set_exception(error)
            finally:
                with self._finished:
                    self._unfinished -= 1
                    self._finished.notify_all()
