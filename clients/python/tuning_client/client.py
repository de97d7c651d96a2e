"""The client: standard library only (urllib, json, threading), Python 3.9+."""

import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_SERVER = "http://127.0.0.1:8080"

# A duration as a study file writes it: 90s, 5m, 1h30m, 500ms.
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_HEARTBEAT_TIMEOUT = re.compile(r"heartbeatTimeout[\"']?\s*:\s*[\"']?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)")
DEFAULT_HEARTBEAT_TIMEOUT = 300.0

# Statuses of a server that is there but cannot answer now (a proxy in front of a restarting tuner): asked again.
_RETRIED_STATUSES = (502, 503, 504)


class TunerError(Exception):
    """The server refused or failed a request: ``status`` is the HTTP status, ``problem`` its ProblemDetails (a dict)."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem
        self.title = problem.get("title")
        self.detail = problem.get("detail")
        super().__init__(f"{status} {self.title}: {self.detail}")


class Client:
    """A Tuning server: ``url`` defaults to $TUNER_SERVER, ``key`` (an API key) to $TUNER_KEY.

    A request that cannot reach the server is made again with exponential backoff, ``retries`` times.
    """

    def __init__(self, url=None, key=None, retries=5, backoff=0.5, timeout=60.0):
        self.url = (url or os.environ.get("TUNER_SERVER") or DEFAULT_SERVER).rstrip("/")
        self.key = key if key is not None else os.environ.get("TUNER_KEY")
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout

    def request(self, method, path, body=None, content_type="application/json", raw=False):
        """The server's JSON answer (None for an empty one; its text with ``raw``); a refusal raises TunerError with its ProblemDetails."""
        data = None
        if body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read().decode("utf-8")
                    return text if raw else json.loads(text) if text else None
            except urllib.error.HTTPError as e:
                text = e.read().decode("utf-8", "replace")
                if e.code in _RETRIED_STATUSES and attempt < self.retries:
                    time.sleep(self.backoff * 2 ** attempt)
                    continue
                try:
                    problem = json.loads(text)
                except ValueError:
                    problem = {"title": e.reason, "detail": text}
                raise TunerError(e.code, problem) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if attempt >= self.retries:
                    raise
                time.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def create_study(self, spec):
        """Submits a study: a dict (sent as JSON) or the path of a study file (its folder must lie in the server's workdir)."""
        if isinstance(spec, dict):
            created = self.request("POST", "/api/studies", spec)
        else:
            path = os.path.abspath(os.fspath(spec))
            with open(path, encoding="utf-8") as file:
                text = file.read()
            kind = "application/json" if path.lower().endswith(".json") else "application/yaml"
            folder = urllib.parse.quote(os.path.dirname(path), safe="")
            created = self.request("POST", "/api/studies?dir=" + folder, text, kind)
        return Study(self, created["id"])

    def study(self, study_id):
        return Study(self, study_id)


class Study:
    """One study on the server."""

    def __init__(self, client, study_id):
        self.client = client
        self.id = study_id

    def _path(self, tail=""):
        return "/api/studies/" + urllib.parse.quote(self.id, safe="") + tail

    def info(self):
        """The study at a glance: status, counts, objective, best trial."""
        return self.client.request("GET", self._path())

    @property
    def best_trial(self):
        """The succeeded trial with the best objective (a dict: number, parameters, metrics), or None."""
        return self.info().get("bestTrial")

    def trials(self, status=None):
        """Every trial (dicts as the API shows them), by number; only those of ``status`` where given."""
        found, after = [], None
        while True:
            query = {"limit": "1000"}
            if status:
                query["status"] = status
            if after:
                query["after"] = after
            page = self.client.request("GET", self._path("/trials?" + urllib.parse.urlencode(query)))
            found.extend(page["trials"])
            after = page.get("next")
            if not after:
                return found

    def heartbeat_timeout(self):
        """Seconds a trial may stay silent before it is handed out again (the study file's trial.external.heartbeatTimeout)."""
        spec = self.client.request("GET", self._path("/spec"), raw=True)
        found = _HEARTBEAT_TIMEOUT.search(spec)
        if not found:
            return DEFAULT_HEARTBEAT_TIMEOUT
        return sum(float(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(found.group(1)))

    def ask(self):
        """A trial to run (its number, parameters and attempt); TunerError 409 once the budget is spent or the study ended."""
        return Trial(self, self.client.request("POST", self._path("/trials")))

    def optimize(self, fn, n_trials, n_jobs=1, heartbeat_interval=None, catch=True):
        """Runs ``fn(trial)`` for up to ``n_trials`` trials, ``n_jobs`` at a time, each in a thread of its own.

        ``fn`` returns the objective (a number) or a dict of metrics; an exception fails the trial with its message
        (re-raised after the others end when ``catch`` is false). A heartbeat thread keeps each trial's lease while
        ``fn`` runs, every ``heartbeat_interval`` seconds (default: a third of the study's heartbeat timeout). Stops
        early once the server refuses to hand out more (budget spent, study ended).
        """
        metric = self.info()["objective"]["metric"]
        if heartbeat_interval is None:
            heartbeat_interval = self.heartbeat_timeout() / 3
        lock = threading.Lock()
        remaining = [n_trials]
        errors = []

        def take():
            with lock:
                if remaining[0] <= 0:
                    return False
                remaining[0] -= 1
                return True

        def work():
            while take():
                try:
                    trial = self.ask()
                except TunerError as e:
                    if e.status == 409:
                        return
                    raise
                try:
                    with trial.keep_alive(heartbeat_interval):
                        result = fn(trial)
                except Exception as e:  # the trial's failure, not the optimizer's
                    if not trial.stopped:
                        trial.fail(f"{type(e).__name__}: {e}")
                    if not catch:
                        with lock:
                            errors.append(e)
                        return
                    continue
                if trial.stopped:
                    continue
                trial.tell(**(result if isinstance(result, dict) else {metric: float(result)}))

        threads = [threading.Thread(target=work, name=f"tuning-job-{i}", daemon=True) for i in range(max(1, n_jobs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]


class Trial:
    """A trial handed out to this client: ``number``, ``params``, and the ``attempt`` its reports and tell carry."""

    def __init__(self, study, answer):
        self.study = study
        self.number = answer["number"]
        self.id = answer["id"]
        self.params = answer["parameters"]
        self.attempt = answer["attempt"]
        #: Why the study stopped this trial early; None while it goes on. A stopped trial needs no tell.
        self.stop_reason = None

    @property
    def stopped(self):
        return self.stop_reason is not None

    def _post(self, verb, body):
        body = dict(body, attempt=self.attempt)
        return self.study.client.request("POST", self.study._path(f"/trials/{self.number}/{verb}"), body)

    def report(self, step, **metrics):
        """Intermediate values at ``step``; True when the study's early-stopping rule says the trial should stop."""
        answer = self._post("report", {"step": step, "metrics": metrics})
        if answer["stop"]:
            self.stop_reason = answer["reason"]
        return answer["stop"]

    def tell(self, **metrics):
        """The trial succeeded with these metrics (the objective among them). Safe to retry: the same tell is taken again."""
        return self._post("tell", {"metrics": metrics})

    def fail(self, reason):
        """The trial failed, for ``reason``."""
        return self._post("tell", {"failed": str(reason)})

    def heartbeat(self):
        """Renews the trial's lease: a trial silent for the study's heartbeat timeout is handed out again."""
        self._post("heartbeat", {})

    def keep_alive(self, interval=30.0):
        """A context manager that sends a heartbeat every ``interval`` seconds while its block runs."""
        return _Heartbeat(self, interval)


class _Heartbeat:
    def __init__(self, trial, interval):
        self.trial = trial
        self.interval = interval
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"tuning-heartbeat-{trial.number}", daemon=True)

    def run(self):
        while not self.done.wait(self.interval):
            try:
                self.trial.heartbeat()
            except TunerError:
                return  # the trial ended (stopped early) or was handed out again: nothing left to keep alive
            except OSError:
                pass  # the server is away; the next beat tries again

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        return False
