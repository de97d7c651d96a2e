"""Tests of tuning_client against a real `tuner serve`: TUNER_SERVER names it (tests/Api.Tests/PythonClientTests runs them)."""

import os
import threading
import time
import unittest

from tuning_client import Client, TunerError


def spec(name, trials, heartbeat="5m", algorithm="random", max_retries=2):
    return {
        "name": name,
        "objective": {"metric": "loss", "goal": "minimize"},
        "algorithm": {"name": algorithm, "seed": 1},
        "budget": {"maxTrials": trials, "maxRetries": max_retries},
        "parameters": [
            {"name": "x", "type": "double", "min": -5, "max": 5},
            {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]},
        ],
        "trial": {"external": {"heartbeatTimeout": heartbeat}},
    }


@unittest.skipUnless(os.environ.get("TUNER_SERVER"), "needs a tuner server in TUNER_SERVER")
class ClientTests(unittest.TestCase):
    def setUp(self):
        self.client = Client(retries=2, backoff=0.05)

    def wait_for_end(self, study):
        for _ in range(100):
            info = study.info()
            if info["status"] not in ("Running", "Created"):
                return info
            time.sleep(0.1)
        self.fail("the study did not end")

    def test_optimize_runs_a_study_from_several_threads(self):
        study = self.client.create_study(spec("py-optimize", 8))
        study.optimize(lambda trial: (trial.params["x"] - 2) ** 2, n_trials=8, n_jobs=4)
        self.assertEqual("Succeeded", self.wait_for_end(study)["status"])
        trials = study.trials()
        self.assertEqual(list(range(8)), [t["number"] for t in trials])
        self.assertTrue(all(t["status"] == "Succeeded" for t in trials))
        best = min(trials, key=lambda t: t["metrics"]["loss"])
        self.assertEqual(best["number"], study.best_trial["number"])

    def test_a_failing_objective_fails_its_trial_and_dicts_report_more_metrics(self):
        study = self.client.create_study(spec("py-fail", 3))

        def objective(trial):
            if trial.number == 1:
                raise ValueError("diverged")
            self.assertFalse(trial.report(1, loss=10.0))
            return {"loss": abs(trial.params["x"]), "runtime": 1.5}

        study.optimize(objective, n_trials=3)
        trials = study.trials()
        self.assertEqual("Failed", trials[1]["status"])
        self.assertIn("ValueError: diverged", trials[1]["error"])
        self.assertEqual(1.5, trials[0]["metrics"]["runtime"])
        self.assertEqual([[1, 10.0]], trials[0]["intermediate"]["loss"])

    def test_ask_tell_by_hand_and_a_retried_tell(self):
        study = self.client.create_study(spec("py-hand", 1))
        trial = study.ask()
        self.assertEqual(0, trial.number)
        self.assertIn(trial.params["opt"], ("sgd", "adam"))
        trial.heartbeat()
        trial.tell(loss=0.5)
        trial.tell(loss=0.5)  # a retry is answered as the first
        with self.assertRaises(TunerError) as refused:
            trial.tell(loss=0.6)
        self.assertEqual(409, refused.exception.status)
        with self.assertRaises(TunerError) as spent:
            study.ask()
        self.assertEqual(409, spent.exception.status)
        self.assertIn("ended", spent.exception.detail)

    def test_a_silent_trial_comes_back_and_its_old_attempt_is_refused(self):
        study = self.client.create_study(spec("py-silent", 1, heartbeat="1s"))
        first = study.ask()
        time.sleep(1.5)
        again = study.ask()
        self.assertEqual((first.number, first.params), (again.number, again.params))
        with self.assertRaises(TunerError) as stale:
            first.tell(loss=1.0)
        self.assertEqual(409, stale.exception.status)
        # The heartbeat thread keeps the new attempt alive past the timeout.
        with again.keep_alive(0.3):
            time.sleep(1.5)
        again.tell(loss=1.0)
        self.assertEqual("Succeeded", self.wait_for_end(study)["status"])

    def test_optimize_keeps_a_long_trial_alive_past_the_heartbeat_timeout(self):
        study = self.client.create_study(spec("py-long", 1, heartbeat="1s"))
        self.assertEqual(1.0, study.heartbeat_timeout())
        study.optimize(lambda trial: time.sleep(2) or 0.5, n_trials=1)
        (trial,) = study.trials()
        self.assertEqual("Succeeded", trial["status"])
        self.assertIsNone(trial["retries"])

    def test_errors_carry_the_problem_details(self):
        with self.assertRaises(TunerError) as missing:
            self.client.study("0123456789abcdef0123456789abcdef").ask()
        self.assertEqual(404, missing.exception.status)
        self.assertEqual("No such study", missing.exception.problem["title"])
        bad = spec("py-bad", 1)
        bad["budget"]["maxTrials"] = 0
        with self.assertRaises(TunerError) as invalid:
            self.client.create_study(bad)
        self.assertEqual(400, invalid.exception.status)
        self.assertEqual("budget.maxTrials", invalid.exception.problem["errors"][0]["path"])

    def test_a_study_file_is_read_from_a_path(self):
        workdir = os.environ.get("TUNER_WORKDIR")
        if not workdir:
            self.skipTest("needs the server's workdir in TUNER_WORKDIR")
        path = os.path.join(workdir, "py-path.yaml")
        with open(path, "w", encoding="utf-8") as file:
            file.write("name: py-path\nobjective: {metric: loss, goal: minimize}\nbudget: {maxTrials: 1}\n"
                       "parameters: [{name: x, type: int, min: 0, max: 3}]\ntrial: {external: {}}\n")
        study = self.client.create_study(path)
        study.optimize(lambda trial: trial.params["x"], n_trials=5)
        self.assertEqual(1, len(study.trials()))

    def test_connection_errors_are_retried_then_raised(self):
        client = Client("http://127.0.0.1:9", retries=2, backoff=0.01)
        started = time.monotonic()
        with self.assertRaises(OSError):
            client.study("x").info()
        self.assertGreaterEqual(time.monotonic() - started, 0.03)


if __name__ == "__main__":
    unittest.main()
