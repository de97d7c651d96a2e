using System.Globalization;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Reports;

/// <summary>Which trials an intermediate plot compares, and which two parameters a contour plot shows.</summary>
public sealed record PlotOptions(IReadOnlyList<int>? Trials = null, IReadOnlyList<string>? Parameters = null);

/// <summary>A plot that cannot be drawn as asked (an unknown kind, parameter or trial), with why.</summary>
public sealed class PlotException(string message) : Exception(message);

/// <summary>
/// The plots of a study, drawn with OxyPlot: history, parallel coordinates, learning curves, slices, parameter
/// importance, a contour of two parameters, the empirical distribution of the objective and a timeline of the trials. Log-scale parameters get log axes, categorical ones their names.
/// Plots stay readable at 10,000 trials: parallel coordinates draw the best 100 in colour over a grey sample of
/// the rest, learning curves at most 10 trials unless asked.
/// </summary>
public static class Plots
{
    /// <summary>The plots every study has.</summary>
    public static readonly string[] Kinds = ["history", "parallel-coordinates", "intermediate", "slice", "importance", "contour", "edf", "timeline"];

    /// <summary>The plots of a study of several objectives or constraints (<see cref="StudySpec.RanksByPareto"/>).</summary>
    public static readonly string[] ParetoKinds = ["pareto-front", "hypervolume-history"];

    /// <summary>Every plot a client may ask for.</summary>
    public static readonly string[] Names = [.. Kinds, .. ParetoKinds];

    private const int ColouredLines = 100;
    private const int GreyLines = 400;

    /// <summary>At most this many trials are drawn as points: the best quarter and an even sample of the rest.</summary>
    private const int MaxPoints = 2000;

    public static PlotModel Build(string kind, StudySnapshot study, IReadOnlyList<TrialRecord> trials, StudySpec spec, PlotOptions? options = null)
    {
        options ??= new PlotOptions();
        var space = spec.Space;
        var data = new StudyData(study, trials, spec.Objective, ParetoRanking.FeasibilityTest(spec) ?? (_ => true));
        var model = kind switch
        {
            "history" => History(data),
            "parallel-coordinates" => ParallelCoordinates(data, space),
            "intermediate" => Intermediate(data, options.Trials),
            "slice" => Slice(data, space),
            "importance" => Importance(data, space),
            "contour" => Contour(data, space, options.Parameters),
            "edf" => Edf(data),
            "timeline" => Timeline(data),
            "pareto-front" => ParetoFront(study, trials, spec),
            "hypervolume-history" => HypervolumeHistory(study, trials, spec),
            _ => throw new PlotException($"unknown plot '{kind}'; plots: {string.Join(", ", Names)}"),
        };
        model.Background = OxyColors.White;
        // Read on a page at half its size: larger than OxyPlot's 12 px.
        model.DefaultFontSize = 15;
        model.TitleFontSize = 19;
        model.Subtitle ??= $"study {study.Name}, {data.Succeeded.Count} succeeded of {trials.Count} trials" +
                           (data.Shown.Count < data.Succeeded.Count ? $" ({data.Shown.Count} drawn as points: the best and a sample)" : "");
        return model;
    }

    public static void WriteSvg(PlotModel model, Stream stream) =>
        new OxyPlot.SkiaSharp.SvgExporter { Width = 960, Height = 600 }.Export(model, stream);

    public static void WritePng(PlotModel model, Stream stream) => FontFallbackContext.WritePng(model, stream, 960, 600);

    /// <summary>
    /// The succeeded trials with a finite objective, and what "better" means for this study: under constraints a
    /// feasible trial is better than any that breaks one (the best trial marked is the study's <c>bestTrial</c>).
    /// </summary>
    private sealed class StudyData(StudySnapshot study, IReadOnlyList<TrialRecord> trials, ObjectiveSpec objective, Func<TrialRecord, bool> feasible)
    {
        public Func<TrialRecord, bool> Feasible => feasible;
        public ObjectiveSpec Objective => objective;
        public string Metric => study.Metric;
        public bool Maximize => study.Maximize;
        public IReadOnlyList<TrialRecord> All => trials;
        public List<(TrialRecord Trial, double Value)> Succeeded { get; } = trials
            .Where(t => t.Status == TrialStatus.Succeeded && t.Metrics.TryGetValue(study.Metric, out var v) && double.IsFinite(v))
            .Select(t => (t, t.Metrics[study.Metric])).OrderBy(p => p.Item1.Number).ToList();

        /// <summary>
        /// The best trial, as the study's <c>bestTrial</c> (the first of equals): null while no trial holds every
        /// constraint. Found once, in one pass: a slice plot marks it in every parameter's panel.
        /// </summary>
        public (TrialRecord Trial, double Value)? Best
        {
            get
            {
                if (_bestFound) return _best;
                var feasibleTrials = Succeeded.Where(s => feasible(s.Trial)).ToList();
                _best = feasibleTrials.Count == 0 ? null : Maximize ? feasibleTrials.MaxBy(s => s.Value) : feasibleTrials.MinBy(s => s.Value);
                _bestFound = true;
                return _best;
            }
        }

        private (TrialRecord Trial, double Value)? _best;
        private bool _bestFound;

        /// <summary>Best first, feasible trials before those that break a constraint.</summary>
        public IEnumerable<(TrialRecord Trial, double Value)> Ranked
        {
            get
            {
                var feasibleFirst = Succeeded.OrderBy(s => feasible(s.Trial) ? 0 : 1);
                return Maximize ? feasibleFirst.ThenByDescending(s => s.Value) : feasibleFirst.ThenBy(s => s.Value);
            }
        }

        /// <summary>The trials drawn as points, in trial order: all of them, or the best and an even sample of the rest.</summary>
        public List<(TrialRecord Trial, double Value)> Shown => _shown ??= Sample();

        private List<(TrialRecord Trial, double Value)>? _shown;

        private List<(TrialRecord Trial, double Value)> Sample()
        {
            if (Succeeded.Count <= MaxPoints) return Succeeded;
            var ranked = Ranked.ToList();
            var rest = ranked.Skip(MaxPoints / 4).ToList();
            var step = (double)rest.Count / (MaxPoints - MaxPoints / 4);
            var sample = Enumerable.Range(0, MaxPoints - MaxPoints / 4).Select(i => rest[(int)(i * step)]);
            return ranked.Take(MaxPoints / 4).Concat(sample).OrderBy(s => s.Trial.Number).ToList();
        }
    }

    private static PlotModel History(StudyData data)
    {
        // An empty 0-100 frame would read as a plot of nothing; the page shows this note instead.
        if (data.Succeeded.Count == 0) throw new PlotException($"no trial has succeeded yet: the history shows succeeded trials' {data.Metric}");
        var model = new PlotModel { Title = $"History of {data.Metric}" };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "trial", MinimumMajorStep = 1, MinimumMinorStep = 1 });
        model.Axes.Add(ValueAxis(data.Metric, data.Succeeded.Select(s => s.Value)));
        var trials = new ScatterSeries { Title = data.Metric, MarkerType = MarkerType.Circle, MarkerSize = data.Shown.Count > 500 ? 2 : 3, MarkerFill = OxyColor.FromAColor(160, OxyColors.SteelBlue) };
        var best = new StairStepSeries { Title = $"best so far ({(data.Maximize ? "max" : "min")})", Color = OxyColors.OrangeRed, StrokeThickness = 2 };
        foreach (var (trial, value) in data.Shown) trials.Points.Add(new ScatterPoint(trial.Number, value));
        double? incumbent = null;
        foreach (var (trial, value) in data.Succeeded)
            if (data.Feasible(trial) && (incumbent is null || (data.Maximize ? value > incumbent : value < incumbent)))
            {
                incumbent = value;
                best.Points.Add(new DataPoint(trial.Number, value));
            }
        // With no feasible trial yet there is no best so far to carry to the last trial.
        if (incumbent is { } last) best.Points.Add(new DataPoint(data.Succeeded[^1].Trial.Number, last));
        model.Series.Add(trials);
        model.Series.Add(best);
        if (data.Best is ({ } top, var topValue)) model.Series.Add(BestPoint(top, top.Number, topValue));
        model.Legends.Add(OutsideLegend());
        return model;
    }

    /// <summary>The front of a study's feasible trials where there is one to draw; the reason as a <see cref="PlotException"/> where not.</summary>
    private static ParetoFront Front(StudySnapshot study, StudySpec spec, string kind) =>
        !spec.RanksByPareto ? throw new PlotException($"{kind} needs several objectives or constraints (objectives: or constraints: in the study file)")
        : study.Pareto is { Trials.Length: > 0 } front ? front
        : throw new PlotException($"{kind}: no trial is feasible yet");

    /// <summary>
    /// Two objectives of every succeeded trial, feasible ones in colour and infeasible ones grey, with the front drawn
    /// through its trials; with three or more objectives a matrix of every pair (<see cref="ParetoMatrix"/>); with one
    /// (under constraints) each trial's objective against its number.
    /// </summary>
    private static PlotModel ParetoFront(StudySnapshot study, IReadOnlyList<TrialRecord> trials, StudySpec spec)
    {
        var front = Front(study, spec, "pareto-front");
        var objectives = spec.Objectives;
        var succeeded = trials.Where(t => t.Status == TrialStatus.Succeeded && objectives.All(o => t.Metrics.ContainsKey(o.Metric))).ToArray();
        if (objectives.Count > 2) return ParetoMatrix(study, front, succeeded, objectives);
        var several = objectives.Count > 1;
        var yTitle = objectives[several ? 1 : 0].Metric;
        var xTitle = several ? objectives[0].Metric : "trial";
        double X(TrialRecord t) => several ? t.Metrics[xTitle] : t.Number;
        double Y(TrialRecord t) => t.Metrics[yTitle];
        var model = new PlotModel
        {
            Title = $"Pareto front: {yTitle} against {xTitle}",
            Subtitle = $"study {study.Name}, {front.Trials.Length} trials on the front",
        };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yTitle });
        var (infeasible, feasible) = FrontScatter();
        foreach (var trial in succeeded)
            (front.Infeasible.Contains(trial.Number) ? infeasible : feasible).Points.Add(new ScatterPoint(X(trial), Y(trial)));
        var line = new LineSeries { Title = "front", Color = FrontColour, StrokeThickness = 2, MarkerType = MarkerType.Diamond, MarkerSize = 5, MarkerFill = FrontColour };
        foreach (var trial in front.Trials.OrderBy(X)) line.Points.Add(new DataPoint(X(trial), Y(trial)));
        model.Series.Add(infeasible);
        model.Series.Add(feasible);
        model.Series.Add(line);
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendBackground = OxyColor.FromAColor(200, OxyColors.White) });
        return model;
    }

    private static readonly OxyColor FrontColour = OxyColors.OrangeRed;

    /// <summary>The grey series of infeasible trials and the coloured one of feasible trials, empty.</summary>
    private static (ScatterSeries Infeasible, ScatterSeries Feasible) FrontScatter() => (
        new ScatterSeries { Title = "infeasible", MarkerType = MarkerType.Circle, MarkerSize = 3, MarkerFill = OxyColor.FromAColor(140, OxyColors.Gray) },
        new ScatterSeries { Title = "feasible", MarkerType = MarkerType.Circle, MarkerSize = 3, MarkerFill = OxyColor.FromAColor(160, OxyColors.SteelBlue) });

    /// <summary>
    /// Three or more objectives: a lower-triangular matrix of scatter plots, one per pair, each column sharing its
    /// objective's axis along the bottom and each row its objective's axis on the left, as a scatter-plot matrix does.
    /// A front of three objectives projected on a pair is no staircase, so its trials are marked, not joined.
    /// </summary>
    private static PlotModel ParetoMatrix(StudySnapshot study, ParetoFront front, TrialRecord[] succeeded, IReadOnlyList<ObjectiveSpec> objectives)
    {
        var cells = objectives.Count - 1;
        var model = new PlotModel
        {
            Title = $"Pareto front: each pair of {objectives.Count} objectives",
            Subtitle = $"study {study.Name}, {front.Trials.Length} trials on the front",
            // Each cell has its frame; one around the whole matrix would box the empty upper triangle too.
            PlotAreaBorderThickness = new OxyThickness(0),
        };
        // A cell's share of the width or height, less a gap on each side for the neighbour's tick labels.
        const double gap = 0.06;
        for (var c = 0; c < cells; c++)
            model.Axes.Add(new LinearAxis
            {
                Position = AxisPosition.Bottom, Key = $"x{c}", Title = objectives[c].Metric,
                StartPosition = (double)c / cells + gap, EndPosition = (c + 1.0) / cells - gap, MinimumPadding = 0.06, MaximumPadding = 0.06,
            });
        // OxyPlot measures a vertical axis from the bottom; row 0 is the top one.
        for (var r = 0; r < cells; r++)
            model.Axes.Add(new LinearAxis
            {
                Position = AxisPosition.Left, Key = $"y{r}", Title = objectives[r + 1].Metric,
                StartPosition = 1 - (r + 1.0) / cells + gap, EndPosition = 1 - (double)r / cells - gap, MinimumPadding = 0.06, MaximumPadding = 0.06,
            });
        var onFront = front.Trials.Select(t => t.Number).ToHashSet();
        for (var r = 0; r < cells; r++)
            for (var c = 0; c <= r; c++)
            {
                var (xMetric, yMetric) = (objectives[c].Metric, objectives[r + 1].Metric);
                // A frame around the cell: an unbounded rectangle fills its axes' ranges.
                model.Annotations.Add(new RectangleAnnotation
                {
                    XAxisKey = $"x{c}", YAxisKey = $"y{r}", Fill = OxyColors.Transparent, Stroke = OxyColors.Gray, StrokeThickness = 1, Layer = AnnotationLayer.BelowSeries,
                });
                var (infeasible, feasible) = FrontScatter();
                var marked = new ScatterSeries { Title = "front", MarkerType = MarkerType.Diamond, MarkerSize = 5, MarkerFill = FrontColour };
                foreach (var trial in succeeded)
                {
                    var series = onFront.Contains(trial.Number) ? marked : front.Infeasible.Contains(trial.Number) ? infeasible : feasible;
                    series.Points.Add(new ScatterPoint(trial.Metrics[xMetric], trial.Metrics[yMetric]));
                }
                foreach (var series in new[] { infeasible, feasible, marked })
                {
                    (series.XAxisKey, series.YAxisKey) = ($"x{c}", $"y{r}");
                    // One legend entry per kind of point, not one per cell.
                    if (r > 0 || c > 0) series.Title = null;
                    model.Series.Add(series);
                }
            }
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Inside });
        return model;
    }

    /// <summary>The hypervolume of the feasible trials up to each trial, against the study's reference point as it stands now.</summary>
    private static PlotModel HypervolumeHistory(StudySnapshot study, IReadOnlyList<TrialRecord> trials, StudySpec spec)
    {
        var front = Front(study, spec, "hypervolume-history");
        // The hypervolume only grows trial by trial: where the last is beyond a double's range, the plot would be an empty frame.
        if (!double.IsFinite(front.Hypervolume))
            throw new PlotException("hypervolume-history: the hypervolume against the reference point is beyond a double's range; " +
                                    "give objectives[i].reference nearer the trials' values");
        var reference = spec.Objectives.Select((o, k) => o.ToLoss(front.Reference[k])).ToArray();
        var model = new PlotModel { Title = "Hypervolume of the feasible trials so far" };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "trial", MinimumMajorStep = 1, MinimumMinorStep = 1 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "hypervolume" + (front.ReferenceDerived.Any(d => d) ? " (reference derived from the trials)" : "") });
        var history = new StairStepSeries { Title = "hypervolume", Color = OxyColors.SteelBlue, StrokeThickness = 2 };
        var points = new List<IReadOnlyList<double>>();
        foreach (var trial in trials.Where(t => ParetoRanking.Feasible(spec, t)).OrderBy(t => t.Number))
        {
            var losses = ParetoRanking.Losses(spec, trial.Metrics);
            if (points.Any(p => Algorithms.MultiObjective.Pareto.Dominates(p, losses))) continue;
            points.RemoveAll(p => Algorithms.MultiObjective.Pareto.Dominates(losses, p));
            points.Add(losses);
            history.Points.Add(new DataPoint(trial.Number, Algorithms.MultiObjective.Hypervolume.Of(points, reference)));
        }
        if (trials.Count > 0 && history.Points.Count > 0) history.Points.Add(new DataPoint(trials.Max(t => t.Number), history.Points[^1].Y));
        model.Series.Add(history);
        return model;
    }

    private static PlotModel ParallelCoordinates(StudyData data, SearchSpace space)
    {
        var model = new PlotModel { Title = $"Parallel coordinates: the darker, the better the {data.Metric}" + (data.Succeeded.Count > ColouredLines ? $" (best {ColouredLines} in colour)" : "") };
        var axes = space.Parameters.Select(p => p.Name + (p is DoubleParameter { Log: true } or IntParameter { Log: true } ? " (log)" : "")).Append(data.Metric).ToArray();
        var bottom = new CategoryAxis { Position = AxisPosition.Bottom, GapWidth = 0, IsZoomEnabled = false };
        bottom.Labels.AddRange(axes);
        model.Axes.Add(bottom);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Minimum = -0.1, Maximum = 1.1, IsAxisVisible = false, IsZoomEnabled = false });
        if (data.Succeeded.Count == 0) return model;
        model.Axes[^1].Minimum = -0.05;
        model.Axes[^1].Maximum = 1.05;
        var (low, high) = (data.Succeeded.Min(s => s.Value), data.Succeeded.Max(s => s.Value));
        double Scaled(double value) => high > low ? (value - low) / (high - low) : 0.5;
        var ranked = data.Ranked.ToList();
        var palette = OxyPalettes.Viridis(ColouredLines);
        var grey = ranked.Skip(ColouredLines);
        if (ranked.Count > ColouredLines + GreyLines) grey = grey.Where((_, i) => i % ((ranked.Count - ColouredLines) / GreyLines + 1) == 0);
        foreach (var (trial, value) in grey.Reverse())
            model.Series.Add(Line(trial, value, OxyColor.FromAColor(60, OxyColors.Gray)));
        var coloured = ranked.Take(ColouredLines).ToList();
        for (var i = coloured.Count - 1; i >= 0; i--)
            model.Series.Add(Line(coloured[i].Trial, coloured[i].Value, palette.Colors[i * (ColouredLines - 1) / Math.Max(coloured.Count - 1, 1)]));
        if (data.Best is ({ } top, var topValue))
        {
            var best = Line(top, topValue, BestColour);
            best.StrokeThickness = 3;
            best.Title = BestTitle(top);
            model.Series.Add(best);
        }
        model.Legends.Add(OutsideLegend());
        // Each axis is read in the parameter's own terms: every category where it lies, numbers at ticks between the ends.
        for (var j = 0; j < axes.Length; j++)
        {
            var ticks = j < space.Dimensions ? Ticks(space.Parameters[j]) : ObjectiveTicks(low, high, Scaled);
            model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Vertical, X = j, Color = OxyColors.Black, StrokeThickness = 1, LineStyle = LineStyle.Solid });
            foreach (var (at, text) in ticks)
                model.Annotations.Add(new TextAnnotation
                {
                    TextPosition = new DataPoint(j, at), Text = text, Stroke = OxyColors.Transparent, FontSize = 12,
                    TextHorizontalAlignment = HorizontalAlignment.Left, TextVerticalAlignment = VerticalAlignment.Middle, Offset = new ScreenVector(4, 0),
                    Background = OxyColor.FromAColor(200, OxyColors.White),
                });
        }
        return model;

        LineSeries Line(TrialRecord trial, double value, OxyColor colour)
        {
            var line = new LineSeries { Color = colour, StrokeThickness = 1.2, Title = null };
            for (var j = 0; j < space.Dimensions; j++) line.Points.Add(new DataPoint(j, space.Parameters[j].ToUnit(trial.Parameters[space.Parameters[j].Name])));
            line.Points.Add(new DataPoint(space.Dimensions, Scaled(value)));
            return line;
        }
    }

    private static PlotModel Intermediate(StudyData data, IReadOnlyList<int>? chosen)
    {
        var withCurves = data.All.Where(t => t.Intermediate.Count > 0).ToDictionary(t => t.Number);
        var metric = withCurves.Values.Any(t => t.Intermediate.ContainsKey(data.Metric)) ? data.Metric
            : withCurves.Values.SelectMany(t => t.Intermediate.Keys).FirstOrDefault() ?? data.Metric;
        List<TrialRecord> shown;
        if (chosen is { Count: > 0 })
        {
            static string Named(int[] numbers) => $"trial{(numbers.Length == 1 ? "" : "s")} {string.Join(", ", numbers)}";
            var unknown = chosen.Where(n => data.All.All(t => t.Number != n)).ToArray();
            if (unknown.Length > 0)
                throw new PlotException($"{Named(unknown)} {(unknown.Length == 1 ? "does" : "do")} not exist: the study has {data.All.Count} trial{(data.All.Count == 1 ? "" : "s")}"
                    + (data.All.Count == 0 ? "" : $", numbered {data.All.Min(t => t.Number)} to {data.All.Max(t => t.Number)}"));
            var missing = chosen.Where(n => !withCurves.ContainsKey(n)).ToArray();
            if (missing.Length > 0) throw new PlotException($"{Named(missing)} reported no intermediate values");
            shown = chosen.Select(n => withCurves[n]).ToList();
        }
        else shown = data.Ranked.Where(r => withCurves.ContainsKey(r.Trial.Number)).Take(10).Select(r => r.Trial).ToList();
        var model = new PlotModel { Title = $"Learning curves: {metric}" };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "step", MinimumMajorStep = 1, MinimumMinorStep = 1 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = metric });
        foreach (var trial in shown)
        {
            if (!trial.Intermediate.TryGetValue(metric, out var points)) continue;
            var line = new LineSeries { Title = $"trial {trial.Number}", StrokeThickness = 1.5, MarkerType = points.Length <= 50 ? MarkerType.Circle : MarkerType.None, MarkerSize = 2.5 };
            foreach (var point in points.Where(p => double.IsFinite(p.Value))) line.Points.Add(new DataPoint(point.Step, point.Value));
            model.Series.Add(line);
        }
        var bestNumber = data.Best?.Trial.Number;
        foreach (var line in model.Series.OfType<LineSeries>().Where(l => l.Title == $"trial {bestNumber}"))
        {
            line.Title = BestTitle(withCurves[bestNumber!.Value]);
            line.Color = BestColour;
            line.StrokeThickness = 3;
        }
        model.Legends.Add(OutsideLegend());
        if (model.Series.Count == 0) model.Subtitle = "no trial reported intermediate values (print step=N or epoch=N with a metric)";
        return model;
    }

    private static PlotModel Slice(StudyData data, SearchSpace space)
    {
        var model = new PlotModel { Title = $"{data.Metric} against each parameter", PlotAreaBorderThickness = new OxyThickness(0) };
        var values = ValueAxis(data.Metric, data.Succeeded.Select(s => s.Value));
        values.AxislineStyle = LineStyle.Solid;
        model.Axes.Add(values);
        var d = space.Dimensions;
        for (var j = 0; j < d; j++)
        {
            var parameter = space.Parameters[j];
            var key = "x" + j.ToString(CultureInfo.InvariantCulture);
            var axis = ParameterAxis(parameter, key);
            // Panels apart, each with a baseline of its own rather than one frame around them all, so one panel's
            // labels do not read as the next one's.
            axis.StartPosition = (double)j / d + 0.025;
            axis.EndPosition = (double)(j + 1) / d - 0.025;
            axis.AxislineStyle = LineStyle.Solid;
            model.Axes.Add(axis);
            var series = new ScatterSeries { XAxisKey = key, MarkerType = MarkerType.Circle, MarkerSize = data.Shown.Count > 500 ? 2 : 3, MarkerFill = OxyColor.FromAColor(150, OxyColors.SteelBlue) };
            foreach (var (trial, value) in data.Shown) series.Points.Add(new ScatterPoint(AxisValue(parameter, trial.Parameters[parameter.Name]), value));
            model.Series.Add(series);
            if (data.Best is ({ } top, var topValue))
            {
                var point = BestPoint(top, AxisValue(parameter, top.Parameters[parameter.Name]), topValue, xAxisKey: key);
                // One legend entry, not one per panel.
                if (j > 0) point.Title = null;
                model.Series.Add(point);
            }
        }
        if (data.Succeeded.Count > 0) model.Legends.Add(OutsideLegend());
        return model;
    }

    private static PlotModel Importance(StudyData data, SearchSpace space)
    {
        var model = new PlotModel { Title = "Parameter importance (GP lengthscales)" };
        var importance = ParameterImportance.Estimate(space, Observations(data));
        var names = new CategoryAxis { Position = AxisPosition.Left, Title = "parameter" };
        var bars = new BarSeries { FillColor = OxyColors.SteelBlue, LabelFormatString = "{0:0.0}%", LabelPlacement = LabelPlacement.Outside };
        if (importance is null) model.Subtitle = "needs at least 3 succeeded trials";
        else
            foreach (var j in Enumerable.Range(0, space.Dimensions).OrderBy(j => importance[j]))
            {
                names.Labels.Add(space.Parameters[j].Name);
                bars.Items.Add(new BarItem(100 * importance[j]));
            }
        model.Axes.Add(names);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "share of relevance (%)", Minimum = 0, MaximumPadding = 0.15 });
        model.Series.Add(bars);
        return model;
    }

    private static PlotModel Contour(StudyData data, SearchSpace space, IReadOnlyList<string>? chosen)
    {
        var numeric = space.Parameters.Where(p => !p.IsCategorical).ToList();
        Parameter[] pair;
        if (chosen is { Count: > 0 })
        {
            if (chosen.Count != 2 || chosen[0] == chosen[1]) throw new PlotException("a contour plot takes two different parameters, like params=x1,x2");
            pair = chosen.Select(name => space.Parameters.FirstOrDefault(p => p.Name == name)
                ?? throw new PlotException($"no parameter '{name}'; parameters: {string.Join(", ", space.Parameters.Select(p => p.Name))}")).ToArray();
            if (pair.FirstOrDefault(p => p.IsCategorical) is { } categorical)
                throw new PlotException($"'{categorical.Name}' is categorical; a contour plot needs two numeric parameters");
        }
        else
        {
            if (numeric.Count < 2) throw new PlotException("a contour plot needs two numeric parameters; this study has " + numeric.Count);
            // The two that matter most, where that can be told; else the first two.
            var importance = ParameterImportance.Estimate(space, Observations(data));
            pair = importance is null ? numeric.Take(2).ToArray()
                : numeric.OrderByDescending(p => importance[space.Parameters.IndexOf(p)]).Take(2).ToArray();
        }
        var model = new PlotModel { Title = $"{data.Metric} over {pair[0].Name} and {pair[1].Name}" };
        var x = ParameterAxis(pair[0], "x");
        x.Position = AxisPosition.Bottom;
        var y = ParameterAxis(pair[1], "y");
        y.Position = AxisPosition.Left;
        model.Axes.Add(x);
        model.Axes.Add(y);
        var values = data.Succeeded.Select(s => s.Value).ToArray();
        model.Axes.Add(new LinearColorAxis
        {
            Position = AxisPosition.Right, Title = data.Metric,
            // Darker is better, as in the parallel coordinates.
            Palette = data.Maximize ? OxyPalettes.Viridis(200).Reverse() : OxyPalettes.Viridis(200),
            Minimum = values.DefaultIfEmpty(0).Min(), Maximum = values.DefaultIfEmpty(1).Max(),
        });
        // On linear axes, a surface between the trials (inverse-distance weighted, in unit coordinates) under them.
        if (values.Length >= 3 && !IsLog(pair[0]) && !IsLog(pair[1]))
        {
            const int cells = 60;
            var grid = new double[cells, cells];
            var points = data.Shown.Select(s => (X: pair[0].ToUnit(s.Trial.Parameters[pair[0].Name]), Y: pair[1].ToUnit(s.Trial.Parameters[pair[1].Name]), s.Value)).ToArray();
            for (var i = 0; i < cells; i++)
                for (var k = 0; k < cells; k++)
                {
                    double u = (i + 0.5) / cells, v = (k + 0.5) / cells, weights = 0, sum = 0;
                    foreach (var p in points)
                    {
                        var w = 1 / (Math.Pow(p.X - u, 2) + Math.Pow(p.Y - v, 2) + 1e-6);
                        weights += w;
                        sum += w * p.Value;
                    }
                    grid[i, k] = sum / weights;
                }
            model.Series.Add(new HeatMapSeries
            {
                X0 = pair[0].FromUnit(0.5 / cells).Number, X1 = pair[0].FromUnit(1 - 0.5 / cells).Number,
                Y0 = pair[1].FromUnit(0.5 / cells).Number, Y1 = pair[1].FromUnit(1 - 0.5 / cells).Number,
                Data = grid, Interpolate = true, XAxisKey = "x", YAxisKey = "y",
            });
        }
        var trials = new ScatterSeries { XAxisKey = "x", YAxisKey = "y", MarkerType = MarkerType.Circle, MarkerSize = 3.5, MarkerStroke = OxyColors.Black, MarkerStrokeThickness = 0.5 };
        foreach (var (trial, value) in data.Shown)
            trials.Points.Add(new ScatterPoint(trial.Parameters[pair[0].Name].Number, trial.Parameters[pair[1].Name].Number, double.NaN, value));
        model.Series.Add(trials);
        if (data.Best is ({ } top, _))
        {
            model.Series.Add(BestPoint(top, top.Parameters[pair[0].Name].Number, top.Parameters[pair[1].Name].Number, "x", "y"));
            model.Legends.Add(OutsideLegend());
        }
        return model;
    }

    private static List<Observation> Observations(StudyData data) =>
        data.Succeeded.Select(s => new Observation(s.Trial.Parameters, data.Objective.ToLoss(s.Value))).ToList();

    private static bool IsLog(Parameter parameter) => parameter is DoubleParameter { Log: true } or IntParameter { Log: true };

    /// <summary>An axis in the parameter's own terms: log for log-scale parameters, the category names for categorical ones.</summary>
    private static Axis ParameterAxis(Parameter parameter, string key)
    {
        Axis axis = parameter switch
        {
            // Half a category of room at each end, so the first and last markers and labels are not cut; every label shown, turned so long ones do not overlap.
            CategoricalParameter c => new CategoryAxis { ItemsSource = c.Values, GapWidth = 0.5, Minimum = -0.5, Maximum = c.Values.Length - 0.5, MajorStep = 1, Angle = c.Values.Length > 3 ? -30 : 0 },
            _ when IsLog(parameter) => new LogarithmicAxis(),
            _ => new LinearAxis(),
        };
        axis.Position = AxisPosition.Bottom;
        axis.Key = key;
        axis.Title = parameter.Name;
        return axis;
    }

    private static double AxisValue(Parameter parameter, ParameterValue value) =>
        parameter is CategoricalParameter c ? c.IndexOf(value) : value.Number;

    /// <summary>The objective's axis: log where every value is positive and they span more than three decades.</summary>
    /// <summary>
    /// The empirical distribution function of the objective over succeeded trials (optuna's plot_edf): the share of
    /// trials whose value is at most x. Past <see cref="MaxPoints"/> trials, the curve is drawn through evenly spaced quantiles.
    /// </summary>
    private static PlotModel Edf(StudyData data)
    {
        if (data.Succeeded.Count == 0) throw new PlotException($"no trial has succeeded yet: the distribution is of succeeded trials' {data.Metric}");
        var model = new PlotModel { Title = $"Empirical distribution of {data.Metric}" };
        var values = data.Succeeded.Select(s => s.Value).Order().ToArray();
        var axis = ValueAxis(data.Metric, values);
        axis.Position = AxisPosition.Bottom;
        model.Axes.Add(axis);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "share of succeeded trials at or below", Minimum = 0, Maximum = 1.02 });
        var curve = new StairStepSeries { Title = data.Metric, Color = OxyColors.SteelBlue, StrokeThickness = 2, VerticalStrokeThickness = 2 };
        var points = Math.Min(values.Length, MaxPoints);
        for (var i = 0; i < points; i++)
        {
            var index = points == values.Length ? i : (int)((long)i * (values.Length - 1) / (points - 1));
            curve.Points.Add(new DataPoint(values[index], (index + 1.0) / values.Length));
        }
        model.Series.Add(curve);
        if (data.Best is ({ } top, var topValue)) model.Series.Add(BestPoint(top, topValue, data.Maximize ? 1 : 1.0 / values.Length));
        model.Legends.Add(OutsideLegend());
        return model;
    }

    /// <summary>At most this many trials are drawn in a timeline: the latest.</summary>
    private const int MaxBars = 1000;

    /// <summary>Silos are named beside the bars up to this many trials; past it the names would overlap.</summary>
    private const int LabelledBars = 50;

    private static readonly Dictionary<TrialStatus, OxyColor> StatusColours = new()
    {
        [TrialStatus.Succeeded] = OxyColors.SeaGreen, [TrialStatus.Running] = OxyColors.SteelBlue, [TrialStatus.Failed] = OxyColors.Crimson,
        [TrialStatus.EarlyStopped] = OxyColors.Goldenrod, [TrialStatus.Cancelled] = OxyColors.Gray, [TrialStatus.Pending] = OxyColors.LightGray,
    };

    /// <summary>
    /// When each trial ran: a bar per trial from its start to its end (a running one's to now), coloured by status, its
    /// silo written beside it, a diamond on trials that took a step from the cache. Seconds from the first start.
    /// </summary>
    private static PlotModel Timeline(StudyData data)
    {
        var started = data.All.Where(t => t.StartedAt is not null).OrderBy(t => t.Number).ToList();
        if (started.Count == 0) throw new PlotException("no trial has started yet");
        var shown = started.Skip(Math.Max(0, started.Count - MaxBars)).ToList();
        var origin = started.Min(t => t.StartedAt!.Value);
        var now = DateTimeOffset.UtcNow;
        double Seconds(DateTimeOffset at) => (at - origin).TotalSeconds;
        var model = new PlotModel { Title = "Timeline of the trials" + (shown.Count < started.Count ? $" (the latest {shown.Count})" : "") };
        // Room on the right for the silo names written beside the latest bars.
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "seconds since the first trial started", Minimum = 0,
            MaximumPadding = shown.Count <= LabelledBars ? 0.4 : 0.05 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "trial", MinimumMajorStep = 1, MinimumMinorStep = 1, StartPosition = 1, EndPosition = 0,
            MinimumPadding = 0.02, MaximumPadding = 0.02 });
        var thickness = Math.Clamp(400.0 / shown.Count, 1, 12);
        foreach (var (status, trials) in shown.GroupBy(t => t.Status).OrderBy(g => g.Key).Select(g => (g.Key, g.ToList())))
        {
            var bars = new LineSeries { Title = status.ToString(), Color = StatusColours[status], StrokeThickness = thickness, LineJoin = LineJoin.Miter };
            foreach (var trial in trials)
            {
                var start = Seconds(trial.StartedAt!.Value);
                // A bar too short to see is drawn a pixel or so wide: a trial that ran still shows.
                var end = Math.Max(Seconds(trial.CompletedAt ?? now), start + 1e-3);
                bars.Points.Add(new DataPoint(start, trial.Number));
                bars.Points.Add(new DataPoint(end, trial.Number));
                bars.Points.Add(DataPoint.Undefined);
            }
            model.Series.Add(bars);
        }
        var cached = new ScatterSeries { Title = "a step taken from the cache", MarkerType = MarkerType.Diamond, MarkerSize = Math.Clamp(thickness, 3, 6), MarkerFill = OxyColors.Black };
        foreach (var trial in shown.Where(t => t.Steps.Any(step => step.Cached)))
            cached.Points.Add(new ScatterPoint(Seconds(trial.StartedAt!.Value), trial.Number));
        if (cached.Points.Count > 0) model.Series.Add(cached);
        if (data.Best?.Trial is { CompletedAt: { } bestEnd } best && best.Number >= shown[0].Number)
            model.Series.Add(BestPoint(best, Seconds(bestEnd), best.Number));
        if (shown.Count <= LabelledBars)
            foreach (var trial in shown.Where(t => t.Silo is not null))
                model.Annotations.Add(new TextAnnotation
                {
                    Text = trial.Silo, TextPosition = new DataPoint(Seconds(trial.CompletedAt ?? now), trial.Number), Stroke = OxyColors.Transparent,
                    TextHorizontalAlignment = HorizontalAlignment.Left, TextVerticalAlignment = VerticalAlignment.Middle, FontSize = 11, Offset = new ScreenVector(4, 0),
                });
        model.Legends.Add(OutsideLegend());
        return model;
    }

    private static Axis ValueAxis(string metric, IEnumerable<double> values)
    {
        var list = values.ToList();
        var log = list.Count > 0 && list.All(v => v > 0) && list.Max() / list.Min() > 1000;
        Axis axis = log ? new LogarithmicAxis() : new LinearAxis();
        axis.Position = AxisPosition.Left;
        axis.Title = metric + (log ? " (log)" : "");
        // Room beyond the extremes: the best trial's marker sits on one of them and is not to be cut by the frame.
        axis.MinimumPadding = axis.MaximumPadding = 0.05;
        return axis;
    }

    /// <summary>Where a parameter's values lie on its parallel-coordinates axis (0 to 1) and their labels: every category, or five numbers ends included.</summary>
    private static IEnumerable<(double At, string Text)> Ticks(Parameter parameter) => parameter switch
    {
        CategoricalParameter c => c.Values.Select(v => (c.ToUnit(ParameterValue.Of(v)), v)),
        _ => UnitTicks.Select(u => (u, Format(parameter.FromUnit(u).Number))),
    };

    private static IEnumerable<(double At, string Text)> ObjectiveTicks(double low, double high, Func<double, double> scaled) =>
        high > low ? UnitTicks.Select(u => (scaled(low + u * (high - low)), Format(low + u * (high - low)))) : [(scaled(low), Format(low))];

    private static readonly double[] UnitTicks = [0, 0.25, 0.5, 0.75, 1];

    /// <summary>The best trial, drawn over the others in every plot.</summary>
    private static readonly OxyColor BestColour = OxyColors.Crimson;

    private static string BestTitle(TrialRecord trial) => $"trial {trial.Number}, the best";

    /// <summary>A legend beside the plot, never over its data.</summary>
    private static Legend OutsideLegend() => new() { LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.RightTop };

    /// <summary>The best trial as a marker of its own over a scatter of trials.</summary>
    private static ScatterSeries BestPoint(TrialRecord trial, double x, double y, string? xAxisKey = null, string? yAxisKey = null)
    {
        var best = new ScatterSeries { Title = BestTitle(trial), MarkerType = MarkerType.Star, MarkerSize = 9, MarkerStroke = BestColour, MarkerStrokeThickness = 2, MarkerFill = BestColour };
        if (xAxisKey is not null) best.XAxisKey = xAxisKey;
        if (yAxisKey is not null) best.YAxisKey = yAxisKey;
        best.Points.Add(new ScatterPoint(x, y));
        return best;
    }

    private static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
