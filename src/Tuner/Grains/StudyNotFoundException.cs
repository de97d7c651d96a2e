namespace Tuning.Tuner.Grains;

/// <summary>
/// The study asked for does not exist: never created, or deleted (a call may race its delete). Front ends answer it
/// as "not found", not as a failure of the service.
/// </summary>
[GenerateSerializer]
public sealed class StudyNotFoundException(Guid id) : Exception($"study {id} does not exist")
{
    [Id(0)] public Guid StudyId { get; } = id;
}
