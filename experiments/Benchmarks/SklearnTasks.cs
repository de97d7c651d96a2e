using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tuning.Algorithms.Space;

namespace Tuning.Benchmarks;

/// <summary>
/// Nine-hyperparameter scikit-learn tasks with 20 trials (issue 23's leftover: such a task lost to TPE): a classifier on
/// the digits data set, scored by its 3-fold cross-validation error (sklearn_tasks.py, run by Debian's python3). The
/// "optimum" is 0, so a row's regret is the error itself.
/// </summary>
public static class SklearnTasks
{
    public static readonly TestFunction[] Rows = [Sgd(), Svc()];

    /// <summary>SGDClassifier: loss, penalty, alpha, l1_ratio, schedule, eta0, power_t, max_iter, tol.</summary>
    public static TestFunction Sgd() => Task("sgd", new SearchSpace([
        new CategoricalParameter("loss", ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"]),
        new CategoricalParameter("penalty", ["l2", "l1", "elasticnet"]),
        new DoubleParameter("alpha", 1e-7, 1, Log: true),
        new DoubleParameter("l1_ratio", 0, 1),
        new CategoricalParameter("learning_rate", ["optimal", "constant", "invscaling", "adaptive"]),
        new DoubleParameter("eta0", 1e-5, 1, Log: true),
        new DoubleParameter("power_t", 0.05, 1),
        new IntParameter("max_iter", 5, 500, Log: true),
        new DoubleParameter("tol", 1e-6, 0.1, Log: true),
    ]));

    /// <summary>PCA then SVC: components, whitening, C, gamma, kernel, degree, coef0, shrinking, tol.</summary>
    public static TestFunction Svc() => Task("svc", new SearchSpace([
        new IntParameter("n_components", 2, 64),
        new CategoricalParameter("whiten", ["no", "yes"]),
        new DoubleParameter("C", 1e-3, 1e3, Log: true),
        new DoubleParameter("gamma", 1e-5, 1, Log: true),
        new CategoricalParameter("kernel", ["rbf", "poly", "sigmoid"]),
        new IntParameter("degree", 2, 5),
        new DoubleParameter("coef0", -1, 1),
        new CategoricalParameter("shrinking", ["yes", "no"]),
        new DoubleParameter("tol", 1e-5, 0.1, Log: true),
    ]));

    private static TestFunction Task(string name, SearchSpace space)
    {
        var workers = new Workers(name);
        return new TestFunction($"sklearn-{name}9", space, 0, 20, workers.Evaluate);
    }

    /// <summary>
    /// Python workers of one task, started as the seeds run in parallel ask for them and reused after: the import of
    /// scikit-learn and the data's loading take longer than a fit. Each worker's input ends, and it exits, with this program.
    /// </summary>
    private sealed class Workers(string task)
    {
        private readonly ConcurrentBag<Process> _idle = [];

        public double Evaluate(double[] values)
        {
            if (!_idle.TryTake(out var worker)) worker = Start();
            worker.StandardInput.WriteLine(JsonSerializer.Serialize(values));
            // A worker that ended (its error is on this program's standard error) is not put back.
            var answer = worker.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"sklearn_tasks.py {task} ended: its error is above");
            _idle.Add(worker);
            return double.Parse(answer, CultureInfo.InvariantCulture);
        }

        private Process Start()
        {
            var script = TpeParity.FindAbove(Path.Combine("experiments", "Benchmarks", "sklearn_tasks.py"))
                         ?? throw new FileNotFoundException("experiments/Benchmarks/sklearn_tasks.py not found above the current folder");
            var start = new ProcessStartInfo(TpeParity.DebianPython)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
                Environment = { ["OMP_NUM_THREADS"] = "1", ["OPENBLAS_NUM_THREADS"] = "1" },
            };
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(task);
            return Process.Start(start)!;
        }
    }
}
