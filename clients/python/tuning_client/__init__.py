"""Ask/tell client for a Tuning server: run a study's trials anywhere, report and tell their results.

    from tuning_client import Client
    study = Client().create_study("study.yaml")       # trial: {external: {heartbeatTimeout: 5m}}
    study.optimize(lambda trial: (trial.params["x"] - 2) ** 2, n_trials=20, n_jobs=4)
    print(study.best_trial)
"""

from .client import Client, Study, Trial, TunerError

__all__ = ["Client", "Study", "Trial", "TunerError"]
