"""``Progbar``: the Keras-style progress bar used by ``fit``/``evaluate``/``predict``.

With ``keras.config.disable_interactive_logging()`` the bar is not redrawn: each
finished bar goes as one line to Python's ``logging`` (logger ``"tensorlab.keras"``,
INFO), as Keras sends it to absl logging.
"""
import logging
import math
import sys
import time

from tensorlab.keras import config as _config

_LOG = logging.getLogger("tensorlab.keras")


def _is_tty(stream):
    return (hasattr(stream, "isatty") and stream.isatty()) or "ipykernel" in sys.modules


def _fmt_value(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.4e}"
    return f"{v:.4f}"


def _fmt_time(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """Displays a progress bar: ``12/50 [=====>.....] - ETA: 3s - loss: 0.1234``.

    Args:
      target: total number of steps, or None if unknown.
      width: width of the bar in characters.
      verbose: 1 for the bar, 2 for one line at the end, 0 for silence.
      interval: minimum seconds between redraws (redraws cost time; 0.1 s
        means at most ten per second).
      stateful_metrics: names of values shown as given rather than averaged
        over steps (all values are shown as given when None, which suits
        Keras metrics, already running means).
      unit_name: the name of a step (``"step"``).
    """

    def __init__(self, target, width=30, verbose=1, interval=0.1, stateful_metrics=None, unit_name="step",
                 stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = None if stateful_metrics is None else set(stateful_metrics)
        self.stream = stream
        self._dynamic = _is_tty(stream or sys.stdout)
        self._values = {}
        self._sums = {}
        self._start = time.time()
        self._last_update = 0.0
        self._seen = 0
        self._prev_len = 0

    def _out(self):
        return self.stream or sys.stdout

    def update(self, current, values=None, finalize=None):
        """Records progress ``current`` and the latest ``values`` (name, value pairs or a dict)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._seen = current
        if values:
            items = values.items() if isinstance(values, dict) else values
            self._pending = items
        now = time.time()
        interactive = _config.is_interactive_logging_enabled()
        live = self._dynamic and interactive
        if not finalize and (self.verbose != 1 or not live or now - self._last_update < self.interval):
            return
        self._last_update = now
        self._absorb()
        if self.verbose == 0:
            return
        if self.verbose == 1 and live:
            line = self._bar_line(current, now, finalize)
            pad = max(0, self._prev_len - len(line))
            self._out().write("\r" + line + " " * pad + ("\n" if finalize else ""))
            self._prev_len = len(line)
            self._out().flush()
        elif finalize:
            line = self._bar_line(current, now, True) if self.verbose == 1 else self._summary_line(now)
            if interactive:
                self._out().write(line + "\n")
                self._out().flush()
            else:
                _LOG.info(line)

    def _absorb(self):
        items = getattr(self, "_pending", None)
        if not items:
            return
        for k, v in items:
            if self.stateful_metrics is None or k in self.stateful_metrics:
                self._values[k] = v
            else:
                s = self._sums.get(k, (0.0, 0))
                self._sums[k] = (s[0] + float(v), s[1] + 1)
                self._values[k] = self._sums[k][0] / self._sums[k][1]
        self._pending = None

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _metrics_str(self):
        return "".join(f" - {k}: {_fmt_value(v)}" for k, v in self._values.items())

    def _per_step(self, now, current):
        elapsed = now - self._start
        if not current:
            return ""
        t = elapsed / current
        if t >= 1:
            return f"{t:.0f}s/{self.unit_name}"
        if t >= 1e-3:
            return f"{t * 1e3:.0f}ms/{self.unit_name}"
        return f"{t * 1e6:.0f}us/{self.unit_name}"

    def _bar_line(self, current, now, finalize):
        if self.target is not None:
            digits = int(math.log10(self.target)) + 1 if self.target > 0 else 1
            head = f"{current:>{digits}}/{self.target}"
            frac = min(1.0, current / self.target) if self.target else 1.0
            done = int(self.width * frac)
            bar = "=" * max(0, done - (0 if finalize or done == self.width else 1))
            if not finalize and done < self.width:
                bar += ">"
            bar = "[" + bar + "." * (self.width - len(bar)) + "]"
            head = f"{head} {bar}"
        else:
            head = f"{current}/Unknown"
        elapsed = now - self._start
        if finalize:
            timing = f" - {_fmt_time(elapsed)} {self._per_step(now, current)}"
        elif self.target is not None and current:
            eta = elapsed / current * (self.target - current)
            timing = f" - ETA: {_fmt_time(eta)}"
        else:
            timing = f" - {_fmt_time(elapsed)}"
        return head + timing + self._metrics_str()

    def _summary_line(self, now):
        return f"{self._seen}/{self.target if self.target is not None else self._seen} - " \
               f"{_fmt_time(now - self._start)} - {self._per_step(now, self._seen)}" + self._metrics_str()
