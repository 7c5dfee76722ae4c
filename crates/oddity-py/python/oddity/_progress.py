"""The `verbose=True` progress display: tqdm when installed, else one updating line on stderr."""

import sys
import time


class ProgressPrinter:
    """Receives the native progress events `("start", name, total)`, `("advance", n)`, `("finish",)`."""

    def __init__(self):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self._tqdm = tqdm
        self._bar = None
        self._name = ""
        self._total = None
        self._done = 0
        self._t0 = 0.0

    def __call__(self, event, *args):
        if event == "start":
            self._name, self._total = args
            self._done = 0
            self._t0 = time.monotonic()
            if self._tqdm is not None:
                self._bar = self._tqdm(total=self._total, desc=self._name, leave=False)
            else:
                self._line()
        elif event == "advance":
            self._done += args[0]
            if self._bar is not None:
                self._bar.update(args[0])
            else:
                self._line()
        elif event == "finish":
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            else:
                self._line(end="\n")

    def _line(self, end=""):
        total = f"/{self._total}" if self._total is not None else ""
        elapsed = time.monotonic() - self._t0
        sys.stderr.write(f"\r{self._name}: {self._done}{total} ({elapsed:.1f}s){end}")
        sys.stderr.flush()
