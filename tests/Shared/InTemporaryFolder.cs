namespace Tuning.Tests.Shared;

/// <summary>A test's own folder under the system's temporary folder (xunit makes one instance per test), removed after it.</summary>
public abstract class InTemporaryFolder(string prefix) : IDisposable
{
    protected string Root { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        // Cache entries inside are read-only: deleted as the cache deletes them.
        Tuning.Trials.Caching.EntryContents.Delete(Root);
        GC.SuppressFinalize(this);
    }
}
