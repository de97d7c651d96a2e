namespace Tuning.Trials.Tests;

public sealed class BackgroundWorkTests
{
    [Fact]
    public async Task A_failure_is_reported_with_its_name_and_ended_work_is_no_longer_listed()
    {
        var failures = new List<(string What, Exception Error)>();
        var background = new BackgroundWork((what, e) => { lock (failures) failures.Add((what, e)); });
        await background.Run("a failing job", () => throw new InvalidOperationException("broken"));
        await background.Run("a fine job", () => Task.CompletedTask);
        var (what, error) = Assert.Single(failures);
        Assert.Equal("a failing job", what);
        Assert.Equal("broken", Assert.IsType<InvalidOperationException>(error).Message);
        Assert.Empty(background.Running);
    }

    [Fact]
    public async Task Draining_waits_for_work_in_flight_and_for_work_it_starts_meanwhile()
    {
        var background = new BackgroundWork();
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();
        _ = background.Run("first", async () =>
        {
            await first.Task;
            _ = background.Run("second", () => second.Task);
        });
        var draining = background.DrainAsync(CancellationToken.None);
        Assert.Equal(["first"], background.Running);
        first.SetResult();
        await Task.Delay(50);
        Assert.False(draining.IsCompleted);
        second.SetResult();
        Assert.Empty(await draining.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Draining_gives_up_when_told_and_names_what_still_runs()
    {
        var background = new BackgroundWork();
        var never = new TaskCompletionSource();
        _ = background.Run("a step that hangs", () => never.Task);
        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.Equal(["a step that hangs"], await background.DrainAsync(patience.Token));
        never.SetResult();
    }
}
