"""Tell a lost broker from a quiet topic.

librdkafka retries forever and keeps handing out the records it buffered
before the broker died, so neither ``consume()`` returning nothing nor
returning something says whether the brokers still answer. A
:class:`BrokerWatch` asks them directly, once a second, in a thread of its own:
a long batch in the main thread never delays the verdict, and the verdict
costs the main thread one attribute read.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from streamlearn.errors import SourceError

__all__ = ["CHECK_EVERY_S", "BrokerWatch", "lost_broker"]

#: seconds between two questions to the brokers
CHECK_EVERY_S = 1.0


def lost_broker(bootstrap: str, reason: str | None, timeout_s: float) -> SourceError:
    """The one line a run stops with when its brokers stopped answering."""
    why = f": {reason}" if reason else ""
    return SourceError(
        f"lost the Kafka broker at {bootstrap}{why}; no answer for {timeout_s:.0f} s "
        "(--broker-timeout). The last checkpoint is kept: run again once the broker is back"
    )


class BrokerWatch:
    """Whether the brokers behind ``client`` answer, asked every second in a thread.

    Parameters
    ----------
    ask
        Called with a timeout in seconds; returns when the brokers answered and
        raises any exception when they did not (e.g. ``client.list_topics``).
    bootstrap
        For the message.
    timeout_s
        Seconds without an answer before :meth:`check` raises.
    reason
        Called for the last error the client saw, for the message.
    release
        Called by the watch's thread when it ends (closes the client ``ask`` uses,
        so that no other thread ever waits for it).

    Examples
    --------
    >>> answers = iter([True, False])
    >>> def ask(timeout: float) -> None:
    ...     if not next(answers, False):
    ...         raise OSError("connection refused")
    >>> watch = BrokerWatch(ask, "127.0.0.1:9092", timeout_s=5.0)
    >>> watch.poll_once(now=0.0), watch.poll_once(now=1.0)
    (True, False)
    >>> watch.check(now=3.0)  # down for 2 s: not yet
    >>> watch.check(now=6.0)
    Traceback (most recent call last):
    ...
    streamlearn.errors.SourceError: lost the Kafka broker at 127.0.0.1:9092: connection refused; ...
    """

    def __init__(
        self,
        ask: Any,
        bootstrap: str,
        timeout_s: float,
        reason: Any = None,
        release: Any = None,
    ) -> None:
        self.ask = ask
        self.release = release
        self.bootstrap = bootstrap
        self.timeout_s = float(timeout_s)
        self.reason = reason
        self.down_since: float | None = None
        #: when the brokers last answered (monotonic seconds)
        self.last_answer = time.monotonic()
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def up(self) -> bool:
        """Whether the brokers answered the last question."""
        return self.down_since is None

    def poll_once(self, now: float | None = None) -> bool:
        """Ask the brokers once; whether they answered."""
        try:
            self.ask(min(2.0, self.timeout_s))
        except Exception as exc:  # any failure to answer counts as down
            if self.down_since is None:
                # silent since the last answer: the timeout counts from there
                self.down_since = self.last_answer if now is None else now
            found = self.reason() if self.reason is not None else None
            self.last_error = found or _text(exc)
            return False
        self.down_since = None
        self.last_answer = time.monotonic() if now is None else now
        return True

    def answered_within(self, seconds: float) -> bool:
        """Whether the brokers answered in the last ``seconds`` seconds."""
        return self.up and time.monotonic() - self.last_answer <= seconds

    def check(self, now: float | None = None) -> None:
        """Raise the one-line :class:`SourceError` once down for ``timeout_s``."""
        since = self.down_since
        if since is None:
            return
        t = time.monotonic() if now is None else now
        if t - since >= self.timeout_s:
            raise lost_broker(self.bootstrap, self.last_error, self.timeout_s)

    def start(self) -> BrokerWatch:
        """Ask every :data:`CHECK_EVERY_S` seconds in a daemon thread until :meth:`stop`."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="streamlearn-broker-watch", daemon=True
            )
            self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            while not self._stop.wait(CHECK_EVERY_S):
                self.poll_once()
        finally:
            if self.release is not None:
                self.release()

    def stop(self) -> None:
        """Stop asking; a question in flight finishes in the thread, unawaited."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=0.2)


def _text(exc: Exception) -> str:
    """KafkaException's text without its repr noise."""
    arg = exc.args[0] if exc.args else None
    if arg is not None and hasattr(arg, "str"):
        return str(arg.str())
    return str(arg if arg is not None else exc)
