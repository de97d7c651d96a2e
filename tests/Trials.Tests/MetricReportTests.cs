using Tuning.Trials.Execution;

namespace Tuning.Trials.Tests;

public class MetricReportTests
{
    [Fact]
    public void Name_value_pairs_are_read_and_the_last_value_wins()
    {
        var report = new MetricReport();
        Assert.True(report.ReadLine("loss=0.9 accuracy=0.5"));
        Assert.True(report.ReadLine("loss=0.41"));
        Assert.Equal(0.41, report.Final["loss"]);
        Assert.Equal(0.5, report.Final["accuracy"]);
        Assert.Empty(report.Intermediate);
    }

    [Fact]
    public void Lines_arriving_out_of_order_keep_the_curve_in_step_order_and_the_latest_step_final()
    {
        static MetricReport Line(string text)
        {
            var line = new MetricReport();
            Assert.True(line.ReadLine(text));
            return line;
        }
        var report = new MetricReport();
        // The metrics file's epoch 2 is read before standard output's epoch 1.
        report.MergeLine(Line("epoch=2 loss=0.5"));
        report.MergeLine(Line("epoch=1 loss=0.9"));
        Assert.Equal(0.5, report.Final["loss"]);
        Assert.Equal([new MetricPoint(1, 0.9), new MetricPoint(2, 0.5)], report.Intermediate["loss"]);
        // A value without a step is the step's last word, whatever stepped line comes after it.
        report.MergeLine(Line("loss=0.4"));
        report.MergeLine(Line("epoch=3 loss=0.45"));
        Assert.Equal(0.4, report.Final["loss"]);
        report.MergeLine(Line("loss=0.3"));
        Assert.Equal(0.3, report.Final["loss"]);
    }

    [Fact]
    public void Step_or_epoch_makes_intermediate_values()
    {
        var report = new MetricReport();
        report.ReadLine("epoch=1 loss=0.9");
        report.ReadLine("epoch=2 loss=0.7 accuracy=0.8");
        report.ReadLine("step=3 loss=0.5");
        Assert.Equal([new MetricPoint(1, 0.9), new MetricPoint(2, 0.7), new MetricPoint(3, 0.5)], report.Intermediate["loss"]);
        Assert.Equal([new MetricPoint(2, 0.8)], report.Intermediate["accuracy"]);
        Assert.Equal(0.5, report.Final["loss"]);
    }

    [Theory]
    [InlineData("Loading data from /tmp/x=1")]
    [InlineData("loss = 0.4")]
    [InlineData("config: lr=0.1")]
    [InlineData("status=ok")]
    public void Ordinary_log_lines_are_not_metrics(string line)
    {
        var report = new MetricReport();
        Assert.False(report.ReadLine(line));
        Assert.Empty(report.Final);
    }

    [Theory]
    [InlineData("objective=1,5", "'1,5' is not a number (use a dot for decimals)")]
    [InlineData("objective = 3", "spaces around '=' split a pair (write objective=3)")]
    [InlineData("loss=0.1 objective =3", "spaces around '=' split a pair (write loss=0.1 objective=3)")]
    [InlineData("objective=1_000", "'1_000' is not a number (write it without '_': 1000)")]
    [InlineData("objective=", "no value after '='")]
    [InlineData("step=1.5 loss=0.3", "step=1.5 is no step: steps are whole numbers")]
    [InlineData("epoch=inf loss=0.3", "epoch=Infinity is no step: steps are whole numbers")]
    [InlineData("config: lr=0.1", "'config:' is no name=value pair, and a metric line holds only such pairs")]
    public void A_line_with_an_equals_sign_that_is_no_metric_line_says_why(string line, string reason)
    {
        Assert.Null(MetricReport.OfLine(line, json: false, out var rejected));
        Assert.Equal(reason, rejected);
    }

    [Fact]
    public void A_metrics_file_line_with_a_step_that_is_no_whole_number_is_refused_too()
    {
        Assert.Null(MetricReport.OfLine("{\"step\": 2.5, \"loss\": 0.1}", json: true, out var rejected));
        Assert.Equal("step=2.5 is no step: steps are whole numbers", rejected);
        Assert.Null(MetricReport.OfLine("loading", json: false, out var plain));
        Assert.Null(plain);
    }

    [Fact]
    public void Only_the_last_few_lines_not_understood_are_kept_and_each_says_where_it_was()
    {
        var report = new MetricReport();
        for (var n = 1; n <= 10_000; n++) report.ReadNumberedLine($"loss={n},5 {new string('x', 1000)}", json: false, "step 'train' stdout", n);
        report.ReadNumberedLine("loss=0.5", json: false, "step 'train' stdout", 10_001);
        Assert.Equal(MetricReport.RejectedKept, report.Rejected.Count);
        Assert.All(report.Rejected, line => Assert.True(line.Text.Length <= 201));
        Assert.Equal("step 'train' stdout line 10000 'loss=10000,5 xxx", report.Rejected.Last().ToString()[..48]);
        Assert.EndsWith("…' was not understood: '10000,5' is not a number (use a dot for decimals)", report.Rejected.Last().ToString());
        Assert.Equal(0.5, report.Final["loss"]);
    }

    [Fact]
    public void Nan_and_infinity_are_read_so_the_trial_can_fail_on_them()
    {
        var report = new MetricReport();
        report.ReadLine("objective=nan other=inf");
        Assert.True(double.IsNaN(report.Final["objective"]));
        Assert.True(double.IsPositiveInfinity(report.Final["other"]));
    }

    [Fact]
    public void Json_lines_are_read_like_metric_lines()
    {
        var report = new MetricReport();
        Assert.True(report.ReadJsonLine("{\"step\": 4, \"loss\": 0.25, \"note\": \"x\"}"));
        Assert.False(report.ReadJsonLine("not json"));
        Assert.Equal(0.25, report.Final["loss"]);
        Assert.Equal([new MetricPoint(4, 0.25)], report.Intermediate["loss"]);
    }

    [Fact]
    public void Bare_nan_and_infinity_as_python_writes_them_are_read_from_json_lines()
    {
        var report = new MetricReport();
        Assert.True(report.ReadJsonLine("{\"epoch\": 3, \"loss\": NaN, \"grad\": -Infinity, \"note\": \"NaN\"}"));
        Assert.True(double.IsNaN(report.Final["loss"]));
        Assert.Equal(double.NegativeInfinity, report.Final["grad"]);
    }

    [Fact]
    public void A_metrics_file_rewritten_from_its_start_is_read_again()
    {
        var file = Path.GetTempFileName();
        try
        {
            var lines = new List<string>();
            var appended = new AppendedLines(file, lines.Add);
            File.WriteAllText(file, "{\"loss\": 1}\n{\"loss\": 0.9}\n");
            appended.ReadNew();
            File.WriteAllText(file, "{\"loss\": 2}\n");
            appended.Finish();
            Assert.Equal(["{\"loss\": 1}", "{\"loss\": 0.9}", "{\"loss\": 2}"], lines);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Values_set_as_final_without_a_step_merge_as_the_step_s_last_word()
    {
        // A cache hit's metrics come back as a report whose final values were set directly, not read from lines.
        var cached = new MetricReport();
        cached.Final["rows"] = 100;
        var trial = new MetricReport();
        Assert.True(trial.ReadLine("step=3 rows=7"));
        trial.MergeLine(cached);
        Assert.Equal(100, trial.Final["rows"]);
    }

    [Fact]
    public void A_flood_of_metric_names_keeps_the_first_hundred_and_the_objective_and_notes_the_rest()
    {
        var step = new MetricReport(["objective"]);
        for (var i = 0; i < 5000; i++)
            step.MergeLine(MetricReport.OfLine($"step={i} m{i}={i}", json: false, out _)!);
        step.MergeLine(MetricReport.OfLine("objective=0.5", json: false, out _)!);
        // step is among the hundred names, as are m0..m98; objective is kept past them.
        Assert.Equal(MetricReport.MaxNames + 1, step.Final.Count);
        Assert.Equal(0.5, step.Final["objective"]);
        Assert.True(step.Intermediate.Count < MetricReport.MaxNames);
        Assert.Equal("only the first 100 metric names are kept: 4,901 values were reported under further names (m99, m100, m101, m102, m103, …) and not kept", step.Note);

        // Merged into the trial's report, the steps' refusals add up and the cap holds across steps.
        var trial = new MetricReport(["objective"]);
        trial.Merge(step);
        var second = new MetricReport();
        second.MergeLine(MetricReport.OfLine("other=1", json: false, out _)!);
        trial.Merge(second);
        Assert.False(trial.Final.ContainsKey("other"));
        Assert.Contains("4,902 values", trial.Note);
        Assert.Null(new MetricReport().Note);
    }
}
