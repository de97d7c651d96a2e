using System.Net;
using System.Text.Json;

namespace Tuning.Api.Tests;

public sealed class RestartTests
{
    [Fact]
    public async Task A_study_survives_a_server_restart_and_finishes_with_no_trial_lost_or_run_twice()
    {
        var folder = Directory.CreateTempSubdirectory("tuning-restart-").FullName;
        try
        {
            // Trials wait for a file that appears only after the restart, and log each run.
            var yaml = Server.Study(trials: 5, parallel: 2).Replace("sleep 0;", $"while [ ! -e {folder}/open ]; do sleep 0.05; done; echo ${{trial.id}} >> {folder}/runs.log;");
            string id;
            await using (var first = await Server.StartAsync(folder))
            {
                using var client = first.Client();
                var created = await client.PostAsync("api/studies", Server.Yaml(yaml));
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                await Task.Delay(500);
            }
            File.WriteAllText(Path.Combine(folder, "open"), "");
            await using var second = await Server.StartAsync(folder);
            using var again = second.Client();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            JsonElement study;
            do
            {
                await Task.Delay(100);
                study = JsonDocument.Parse(await again.GetStringAsync($"api/studies/{id}")).RootElement;
            } while (study.GetProperty("status").GetString() == "Running" && DateTime.UtcNow < deadline);
            Assert.Equal("Succeeded", study.GetProperty("status").GetString());
            Assert.Equal(5, study.GetProperty("succeeded").GetInt32());
            var runs = File.ReadAllLines(Path.Combine(folder, "runs.log"));
            Assert.Equal(5, runs.Length);
            Assert.Equal(5, runs.Distinct().Count());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
