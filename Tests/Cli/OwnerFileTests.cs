using FlowOrleans.Cli.Cluster;

namespace FlowOrleans.Tests.Cli;

/// <summary>flowctl's owner capability file: made once, kept private, the same for every run that reads it.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class OwnerFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flowctl-owner-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task RunsMakingTheFileAtOnceAllGetTheOneCapabilityItHolds()
    {
        var path = Path.Combine(_directory, "config", "owner");
        var owners = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => OwnerFile.LoadOrCreate("--owner", path))));

        Assert.Single(owners.Distinct());
        Assert.False(owners[0].IsEmpty);
        Assert.Equal(owners[0], OwnerFile.LoadOrCreate("--owner", path));
        Assert.Equal(owners[0].ToHex(), (await File.ReadAllTextAsync(path)).Trim());
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left behind
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void TheDefaultIsInTheUsersConfigurationDirectory()
    {
        Assert.EndsWith(Path.Combine("flowctl", "owner"), OwnerFile.DefaultPath, StringComparison.Ordinal);
        Assert.True(Path.IsPathRooted(OwnerFile.DefaultPath));
    }
}
