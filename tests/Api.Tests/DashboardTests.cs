using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Tuning.Api.Tests;

/// <summary>The dashboard in a real headless Chromium (Debian's, driven by Playwright; no browser is downloaded).</summary>
public sealed class DashboardTests
{
    /// <summary>Debian's Chromium, headless, driven by Playwright.</summary>
    private sealed class HeadlessChromium : IAsyncDisposable
    {
        private const string Chromium = "/usr/bin/chromium";
        private readonly IPlaywright _playwright;
        private readonly IBrowser _browser;

        private HeadlessChromium(IPlaywright playwright, IBrowser browser) => (_playwright, _browser) = (playwright, browser);

        public static async Task<HeadlessChromium> LaunchAsync()
        {
            Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does)");
            var playwright = await Playwright.CreateAsync();
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
            });
            return new HeadlessChromium(playwright, browser);
        }

        public Task<IPage> NewPageAsync() => _browser.NewPageAsync();

        public async ValueTask DisposeAsync()
        {
            await _browser.DisposeAsync();
            _playwright.Dispose();
        }
    }

    private static readonly PageWaitForFunctionOptions Patiently = new() { Timeout = 30_000 };

    /// <summary>Opens a study's page; returns how long it took to show its first trial rows.</summary>
    private static async Task<TimeSpan> OpenStudyAsync(IPage page, Server server, string id)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await page.GotoAsync($"{server.Url}/#/studies/{id}");
        await page.WaitForSelectorAsync("[data-testid=trial-row]");
        return clock.Elapsed;
    }

    private static async Task<string> SubmitAsync(HttpClient client, string yaml) =>
        JsonDocument.Parse(await (await client.PostAsync("api/studies", Server.Yaml(yaml))).Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

    [Fact]
    public async Task An_external_trial_shows_its_clients_reports_live_and_its_given_up_attempts()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var created = await client.PostAsync("api/studies", Server.Yaml(AskTellTests.ExternalStudy(trials: 2, heartbeat: "1s")));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var first = JsonDocument.Parse(await (await client.PostAsync($"api/studies/{id}/trials", null)).Content.ReadAsStringAsync()).RootElement;

        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync($"{server.Url}/#/studies/{id}");
        await page.WaitForSelectorAsync("[data-testid=trial-row] .status-Running");

        // The client's report reaches the page without a reload.
        await client.PostAsJsonAsync($"api/studies/{id}/trials/0/report", new { attempt = first.GetProperty("attempt").GetString(), step = 1, metrics = new { loss = 0.125 } });
        await page.WaitForFunctionAsync("document.querySelector('[data-testid=trial-row]').textContent.includes('0.125')", null,
            new PageWaitForFunctionOptions { Timeout = 30_000 });
        // Silent past its heartbeat timeout, the trial is handed out again: the page says an attempt was given up.
        await Task.Delay(1500);
        (await client.PostAsync($"api/studies/{id}/trials", null)).EnsureSuccessStatusCode();
        await page.WaitForFunctionAsync("document.querySelector('[data-testid=trial-error]').textContent.includes('1 earlier attempt given up')", null,
            new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Contains("no report or heartbeat", await page.Locator("[data-testid=trial-error]").First.GetAttributeAsync("title"));
    }

    [Fact]
    public async Task A_study_page_updates_while_trials_run_shows_plots_and_compares_two_trials()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        // The trials wait for a gate the test opens once the page shows them running.
        var gate = Path.Combine(server.Folder, "gate");
        var yaml = Server.Study(trials: 10, parallel: 2, sleep: 0.2).Replace("sleep 0.2;", $"while [ ! -e {gate} ]; do sleep 0.05; done; sleep 0.2;");
        var created = await client.PostAsync("api/studies", Server.Yaml(yaml));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        var loaded = await OpenStudyAsync(page, server, id!);

        // The table follows the study while it runs: trials succeed on the page without a reload.
        Assert.Equal(0, await page.Locator("[data-testid=trial-row] .status-Succeeded").CountAsync());
        Assert.True(await page.Locator("[data-testid=trial-row] .status-Running").CountAsync() > 0);
        File.WriteAllText(gate, "");
        await page.WaitForFunctionAsync("document.querySelectorAll('[data-testid=trial-row] .status-Succeeded').length > 0", null,
            new PageWaitForFunctionOptions { Timeout = 30_000 });
        await page.WaitForFunctionAsync("document.querySelector('[data-testid=summary]').textContent.includes('Succeeded')", null,
            new PageWaitForFunctionOptions { Timeout = 30_000 });

        // The trial the model recommends, beside the best one.
        await page.WaitForFunctionAsync("document.querySelector('[data-testid=recommended]').textContent.includes('(trial ')", null,
            new PageWaitForFunctionOptions { Timeout = 30_000 });

        // A plot is drawn (the history of the objective).
        await page.WaitForSelectorAsync("[data-testid=plot-history][data-loaded=true]", new PageWaitForSelectorOptions { Timeout = 20_000 });
        Assert.True(await page.EvalOnSelectorAsync<int>("[data-testid=plot-history]", "img => img.naturalWidth") > 0);
        // One objective without constraints: no front, no front plots.
        Assert.True(await page.Locator("[data-testid=front]").IsHiddenAsync());
        Assert.True(await page.Locator("[data-testid=plot-pareto-front]").IsHiddenAsync());

        // Two trials, compared: their parameters side by side and their learning curves overlaid.
        await page.Locator("[data-testid=select]").Nth(0).CheckAsync();
        await page.Locator("[data-testid=select]").Nth(1).CheckAsync();
        await page.ClickAsync("[data-testid=compare]");
        await page.WaitForSelectorAsync("[data-testid=compare-plot][data-loaded=true]", new PageWaitForSelectorOptions { Timeout = 20_000 });
        var headers = await page.Locator("[data-testid=compare-table] thead th").AllTextContentsAsync();
        Assert.Equal(["", "trial 0", "trial 1"], headers);
        Assert.Contains("x", await page.Locator("[data-testid=compare-table] tbody").TextContentAsync());
        Console.WriteLine($"dashboard: study page with its first trial rows in {loaded.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_study_of_two_objectives_shows_its_front_and_trials_chosen_on_it_are_compared()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var id = await SubmitAsync(client, RunCommandTests.TwoObjectives);
        await Server.WaitForEndAsync(client, id);

        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        await OpenStudyAsync(page, server, id);
        await page.WaitForSelectorAsync("[data-testid=front-point]");
        // Trials 0-3 trade a for b; trial 4 breaks the memory bound and is not on the front.
        Assert.Equal(["0", "1", "2", "3"], await page.Locator("[data-testid=front-point]").EvaluateAllAsync<string[]>("points => points.map(p => p.dataset.number)"));
        Assert.Contains("4 trials, hypervolume 28.45", await page.Locator("[data-testid=front-summary]").TextContentAsync());
        Assert.Equal(["", "#", "a (minimize)", "b (minimize)"], await page.Locator("[data-testid=front-table] thead th").AllTextContentsAsync());
        await page.WaitForSelectorAsync("[data-testid=plot-pareto-front][data-loaded=true]", new PageWaitForSelectorOptions { Timeout = 20_000 });
        await page.WaitForSelectorAsync("[data-testid=plot-hypervolume-history][data-loaded=true]", new PageWaitForSelectorOptions { Timeout = 20_000 });

        // Two trials chosen by a click on the front: marked there, ticked in both tables; a second click lets one go.
        foreach (var number in new[] { 1, 3, 2, 2 }) await page.Locator($"[data-testid=front-point][data-number='{number}']").ClickAsync();
        Assert.Equal(["1", "3"], await page.Locator("[data-testid=front-point].chosen").EvaluateAllAsync<string[]>("points => points.map(p => p.dataset.number)"));
        Assert.True(await page.Locator("[data-testid=front-table] input[data-number='3']").IsCheckedAsync());
        Assert.True(await page.Locator("[data-testid=trials] input[data-number='1']").IsCheckedAsync());
        Assert.False(await page.Locator("[data-testid=trials] input[data-number='2']").IsCheckedAsync());
        await page.ClickAsync("[data-testid=compare-front]");
        await page.WaitForSelectorAsync("[data-testid=compare-table]");
        Assert.EndsWith($"#/studies/{id}/compare/1,3", page.Url);
        Assert.Equal(["", "trial 1", "trial 3"], await page.Locator("[data-testid=compare-table] thead th").AllTextContentsAsync());

        // A study none of whose trials holds its constraint has no front yet: a note says so, nothing is drawn.
        var none = await SubmitAsync(client, RunCommandTests.TwoObjectives.Replace("name: front", "name: none").Replace("max: 300", "max: -1"));
        await Server.WaitForEndAsync(client, none);
        await page.GotoAsync($"{server.Url}/#/studies/{none}");
        await page.WaitForSelectorAsync("[data-testid=front-empty]");
        Assert.Equal(0, await page.Locator("[data-testid=front-point]").CountAsync());
        Assert.Contains("0 trials", await page.Locator("[data-testid=front-summary]").TextContentAsync());
    }

    [Fact]
    public async Task A_trial_page_a_comparison_and_the_tables_sort_and_filter_have_urls_and_plots_enlarge()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var id = await SubmitAsync(client, Server.Study(trials: 4, parallel: 2));
        await Server.WaitForEndAsync(client, id);
        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();

        // A trial's page, by URL: its steps, its curve and what its step printed.
        await page.GotoAsync($"{server.Url}/#/studies/{id}/trials/1");
        await page.WaitForFunctionAsync("document.querySelector('[data-testid=log-s]')?.textContent.includes('step=2 objective=')", null, Patiently);
        Assert.Equal("Trial 1 of served", await page.Locator("[data-testid=trial-title]").TextContentAsync());
        Assert.Contains("ran", await page.Locator("[data-testid=trial-steps]").TextContentAsync());
        await page.WaitForSelectorAsync("[data-testid=trial-curve][data-loaded=true]", new() { Timeout = 20_000 });
        Assert.False(await page.Locator("[data-testid=notebook]").IsVisibleAsync()); // no notebook study

        // A comparison, by URL.
        await page.GotoAsync($"{server.Url}/#/studies/{id}/compare/0,2");
        await page.WaitForSelectorAsync("[data-testid=compare-plot][data-loaded=true]", new() { Timeout = 20_000 });
        Assert.Equal(["", "trial 0", "trial 2"], await page.Locator("[data-testid=compare-table] thead th").AllTextContentsAsync());

        // The table's sort and filter go into the URL, and a URL opens the table as it was.
        await page.GotoAsync($"{server.Url}/#/studies/{id}");
        await page.WaitForSelectorAsync("[data-testid=trial-row]");
        await page.ClickAsync("[data-testid=sort-value]");
        await page.WaitForFunctionAsync("location.hash.includes('sort=value')", null, Patiently);
        await page.SelectOptionAsync("[data-testid=filter]", "Succeeded");
        await page.WaitForFunctionAsync("location.hash.includes('status=Succeeded')", null, Patiently);
        // step is the step of the values on its line, no metric of its own.
        Assert.DoesNotContain("step", await page.Locator("[data-testid=trials] thead th").AllTextContentsAsync());
        var shared = await browser.NewPageAsync();
        await shared.GotoAsync($"{server.Url}/#/studies/{id}?sort=-value&status=Succeeded");
        await shared.WaitForSelectorAsync("[data-testid=trial-row]");
        Assert.Contains("▼", await shared.Locator("[data-testid=sort-value]").TextContentAsync());
        Assert.Equal("Succeeded", await shared.Locator("[data-testid=filter]").InputValueAsync());
        var values = (await shared.Locator("[data-testid=trial-row]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.children[3].textContent)"))
            .Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(values.OrderDescending(), values);

        // The contour's two parameters are chosen on the page.
        await shared.WaitForSelectorAsync("[data-testid=plot-contour][data-loaded=true]", new() { Timeout = 20_000 });
        await shared.FillAsync("[data-testid=choose-contour]", "x,lr");
        await shared.RunAndWaitForRequestAsync(() => shared.PressAsync("[data-testid=choose-contour]", "Enter"), request => request.Url.Contains("contour.png?params=x%2Clr"));
        // Enlarged, it is the same contour.
        await shared.RunAndWaitForRequestAsync(() => shared.ClickAsync("[data-testid=plot-contour]"), request => request.Url.Contains("contour.svg?params=x%2Clr"));
        await shared.WaitForSelectorAsync("[data-testid=lightbox] img");
        await shared.Keyboard.PressAsync("Escape");

        // A plot, clicked, is shown large; Escape closes it.
        await shared.WaitForSelectorAsync("[data-testid=plot-history][data-loaded=true]", new() { Timeout = 20_000 });
        await shared.ClickAsync("[data-testid=plot-history]");
        await shared.WaitForFunctionAsync("document.querySelector('[data-testid=lightbox] img')?.naturalWidth > 0", null, Patiently);
        Assert.True(await shared.EvalOnSelectorAsync<double>("[data-testid=lightbox] img", "img => img.getBoundingClientRect().width") > 1000);
        await shared.Keyboard.PressAsync("Escape");
        Assert.Equal(0, await shared.Locator("[data-testid=lightbox]").CountAsync());
    }

    [Fact]
    public async Task The_table_filters_by_parameter_ranges_categories_and_status_and_keeps_the_filter_in_its_url()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var id = await SubmitAsync(client, AskTellTests.ExternalStudy(trials: 12));
        var told = new List<(int Number, int X, string K, bool Failed)>();
        for (var n = 0; n < 12; n++)
        {
            var trial = JsonDocument.Parse(await (await client.PostAsync($"api/studies/{id}/trials", null)).Content.ReadAsStringAsync()).RootElement;
            var parameters = trial.GetProperty("parameters");
            var failed = n % 4 == 3;
            object outcome = failed ? new { attempt = trial.GetProperty("attempt").GetString(), failed = "out of memory" }
                : new { attempt = trial.GetProperty("attempt").GetString(), metrics = new { loss = n } };
            (await client.PostAsJsonAsync($"api/studies/{id}/trials/{n}/tell", outcome)).EnsureSuccessStatusCode();
            told.Add((n, parameters.GetProperty("x").GetInt32(), parameters.GetProperty("k").GetString()!, failed));
        }
        await Server.WaitForEndAsync(client, id);
        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync($"{server.Url}/#/studies/{id}");
        await page.WaitForSelectorAsync("[data-testid=trial-row]");
        async Task<int[]> ShownAsync(IPage on) =>
            (await on.Locator("[data-testid=trial-row]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.number)")).Select(int.Parse).ToArray();

        // A range of a number and a category, all met; then a status besides.
        await page.FillAsync("[data-testid=param-filter]", "x:1..3 k:a k:b");
        await page.PressAsync("[data-testid=param-filter]", "Enter");
        await page.WaitForFunctionAsync("location.hash.includes('param=x%3A1..3&param=k%3Aa&param=k%3Ab')", null, Patiently);
        var inRange = told.Where(t => t.X is >= 1 and <= 3 && t.K is "a" or "b").ToArray();
        Assert.NotEmpty(inRange);
        await page.WaitForFunctionAsync($"document.querySelectorAll('[data-testid=trial-row]').length === {inRange.Length}", null, Patiently);
        Assert.Equal(inRange.Select(t => t.Number), await ShownAsync(page));
        await page.SelectOptionAsync("[data-testid=filter]", "Succeeded");
        await page.WaitForFunctionAsync("location.hash.includes('status=Succeeded')", null, Patiently);
        var succeeded = inRange.Where(t => !t.Failed).Select(t => t.Number).ToArray();
        await page.WaitForFunctionAsync($"document.querySelectorAll('[data-testid=trial-row]').length === {succeeded.Length}", null, Patiently);
        Assert.Equal(succeeded, await ShownAsync(page));

        // The URL opens the same table elsewhere, its filters shown.
        var shared = await browser.NewPageAsync();
        await shared.GotoAsync(page.Url);
        await shared.WaitForSelectorAsync("[data-testid=trial-row]");
        Assert.Equal("x:1..3 k:a k:b", await shared.Locator("[data-testid=param-filter]").InputValueAsync());
        Assert.Equal("Succeeded", await shared.Locator("[data-testid=filter]").InputValueAsync());
        Assert.Equal(succeeded, await ShownAsync(shared));

        // A condition the API cannot read says why, and the table stays as it was.
        await shared.FillAsync("[data-testid=param-filter]", "x:1..many");
        await shared.PressAsync("[data-testid=param-filter]", "Enter");
        await shared.WaitForFunctionAsync("document.querySelector('[data-testid=filter-problem]').textContent.includes('NAME:MIN..MAX')", null, Patiently);
        Assert.Equal(succeeded, await ShownAsync(shared));
    }

    [Fact]
    public async Task An_ended_study_stops_asking_and_an_early_stopped_trial_is_one_quiet_line()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var id = await SubmitAsync(client, AskTellTests.ExternalStudy(trials: 3, earlyStopping: "earlyStopping: {name: median, settings: {minTrials: 2, startStep: 1}}"));
        for (var n = 0; n < 3; n++)
        {
            var trial = JsonDocument.Parse(await (await client.PostAsync($"api/studies/{id}/trials", null)).Content.ReadAsStringAsync()).RootElement;
            var attempt = trial.GetProperty("attempt").GetString();
            var loss = n < 2 ? 1.0 : 100.0; // the third is worse than the median at step 1: stopped early
            (await client.PostAsJsonAsync($"api/studies/{id}/trials/{n}/report", new { attempt, step = 1, metrics = new { loss } })).EnsureSuccessStatusCode();
            if (n < 2) (await client.PostAsJsonAsync($"api/studies/{id}/trials/{n}/tell", new { attempt, metrics = new { loss } })).EnsureSuccessStatusCode();
        }
        await Server.WaitForEndAsync(client, id);
        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        var asked = new List<string>();
        page.Request += (_, request) => { lock (asked) asked.Add(request.Url); };
        await page.GotoAsync($"{server.Url}/#/studies/{id}");
        await page.WaitForSelectorAsync("[data-testid=early-stopped]");
        await page.WaitForSelectorAsync("[data-testid=plot-history][data-loaded=true]", new() { Timeout = 20_000 });

        // Stopped early is no error: a badge, its reason on one line in no error colour.
        var stopped = page.Locator("[data-testid=trial-row][data-number='2']");
        Assert.Equal(0, await stopped.Locator(".error, .status-Failed").CountAsync());
        var heights = await page.Locator("[data-testid=trial-row]").EvaluateAllAsync<double[]>("rows => rows.map(r => r.getBoundingClientRect().height)");
        Assert.True(heights.Max() < 1.5 * heights.Min(), $"row heights {string.Join(", ", heights)}");

        // The study has ended: its event stream ended with it and the page asks nothing more.
        await Task.Delay(1000);
        int before;
        lock (asked) before = asked.Count;
        await Task.Delay(4000);
        lock (asked)
        {
            Assert.Contains(asked, url => url.EndsWith($"/api/studies/{id}/events"));
            Assert.Equal(before, asked.Count);
        }
    }

    [Fact]
    public async Task A_plot_that_cannot_be_drawn_shows_only_why()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var id = await SubmitAsync(client, AskTellTests.ExternalStudy(trials: 1));
        var trial = JsonDocument.Parse(await (await client.PostAsync($"api/studies/{id}/trials", null)).Content.ReadAsStringAsync()).RootElement;
        (await client.PostAsJsonAsync($"api/studies/{id}/trials/0/tell", new { attempt = trial.GetProperty("attempt").GetString(), failed = "out of memory" })).EnsureSuccessStatusCode();
        await Server.WaitForEndAsync(client, id);
        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync($"{server.Url}/#/studies/{id}");
        await page.WaitForSelectorAsync("[data-testid=plot-note-history]:not([hidden])", new() { Timeout = 20_000 });
        Assert.Contains("no trial has succeeded yet", await page.Locator("[data-testid=plot-note-history]").TextContentAsync());
        Assert.False(await page.Locator("[data-testid=plot-history]").IsVisibleAsync());
        await page.WaitForSelectorAsync("[data-testid=plot-note-contour]:not([hidden])", new() { Timeout = 20_000 });
        Assert.False(await page.Locator("[data-testid=plot-contour]").IsVisibleAsync());
    }

    [Fact]
    public async Task A_flood_of_metric_names_leaves_the_page_quick_and_its_table_narrow()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var flood = "awk 'BEGIN { for (i = 0; i < 5000; i++) print \\\"m\\\" i \\\"=\\\" i }';";
        var id = await SubmitAsync(client, Server.Study(trials: 4, parallel: 2).Replace("echo step=1 objective=2;", flood));
        await Server.WaitForEndAsync(client, id);
        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        var loaded = await OpenStudyAsync(page, server, id!);
        // The objective and six more metrics, beside the checkbox, number, status, 3 parameters, duration, steps and error.
        Assert.Equal(3 + 7 + 3 + 3, await page.Locator("[data-testid=trials] thead th").CountAsync());
        Assert.Contains("only the first 100 metric names are kept", await page.Locator("[data-testid=trial-error]").First.GetAttributeAsync("title"));
        Console.WriteLine($"dashboard: a study whose trials printed 5,000 metric names each shows its trials in {loaded.TotalMilliseconds:F0} ms");
        Assert.True(loaded < TimeSpan.FromSeconds(10), $"the page took {loaded}");
    }

    [Fact]
    public async Task The_tables_page_is_in_its_url()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var id = await SubmitAsync(client, AskTellTests.ExternalStudy(trials: 60));
        for (var n = 0; n < 60; n++)
        {
            var trial = JsonDocument.Parse(await (await client.PostAsync($"api/studies/{id}/trials", null)).Content.ReadAsStringAsync()).RootElement;
            (await client.PostAsJsonAsync($"api/studies/{id}/trials/{n}/tell", new { attempt = trial.GetProperty("attempt").GetString(), metrics = new { loss = n } })).EnsureSuccessStatusCode();
        }
        await Server.WaitForEndAsync(client, id);
        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        await OpenStudyAsync(page, server, id);
        await page.ClickAsync("[data-testid=next]");
        await page.WaitForFunctionAsync("location.hash.includes('page=2')", null, Patiently);

        // The second page, opened from its URL elsewhere, shows the same rows; Previous goes back to the first.
        var shared = await browser.NewPageAsync();
        await shared.GotoAsync(page.Url);
        await shared.WaitForSelectorAsync("[data-testid=trial-row][data-number='50']");
        Assert.Equal("60 trials, page 2 of 2", await shared.Locator("[data-testid=page-info]").TextContentAsync());
        await shared.ClickAsync("[data-testid=prev]");
        await shared.WaitForSelectorAsync("[data-testid=trial-row][data-number='0']");
        Assert.DoesNotContain("page=", new Uri(shared.Url).Fragment);
    }
}
