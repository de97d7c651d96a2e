using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Tuning.Api.Tests;

/// <summary>The dashboard in a real headless Chromium (Debian's, driven by Playwright; no browser is downloaded).</summary>
public sealed class DashboardTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task An_external_trial_shows_its_clients_reports_live_and_its_given_up_attempts()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does)");
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var created = await client.PostAsync("api/studies", Server.Yaml(AskTellTests.ExternalStudy(trials: 2, heartbeat: "1s")));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var first = JsonDocument.Parse(await (await client.PostAsync($"api/studies/{id}/trials", null)).Content.ReadAsStringAsync()).RootElement;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
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
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does)");
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        // The trials wait for a gate the test opens once the page shows them running.
        var gate = Path.Combine(server.Folder, "gate");
        var yaml = Server.Study(trials: 10, parallel: 2, sleep: 0.2).Replace("sleep 0.2;", $"while [ ! -e {gate} ]; do sleep 0.05; done; sleep 0.2;");
        var created = await client.PostAsync("api/studies", Server.Yaml(yaml));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        var page = await browser.NewPageAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await page.GotoAsync($"{server.Url}/#/studies/{id}");
        await page.WaitForSelectorAsync("[data-testid=trial-row]");
        var loaded = clock.Elapsed;

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
}
