namespace Tuning.Trials.Tests;

/// <summary>
/// Test classes whose steps must be the only ones of this process while they run. The tuner adopts what steps
/// orphan and gives an orphan with neither group nor marker to a step only when no other running step could have
/// started it, so a daemon escaping a test's step ends with it at once only while no other class runs steps; and a
/// daemon a test starts itself (<c>podman run -d</c>, whose conmon has an empty environment) would be taken for the
/// escapee of whatever step ended next.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StepsAlone
{
    public const string Name = "steps alone";
}
