using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Tests.Security;

/// <summary>The silo's identity from <c>FlowOrleans:Trust</c>: stable across restarts, loadable from a read-only mount.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SiloPrincipalTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flow-principal-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static SiloPrincipal Load(Action<SiloTrustOptions> configure)
    {
        var options = new FlowOrleansOptions();
        configure(options.Trust);
        return new SiloPrincipal(Options.Create(options));
    }

    [Fact]
    public void AnEmptyDirectoryGetsAPrincipalThatTheNextStartLoadsUnchanged()
    {
        PublicKey first;
        using (var created = Load(t => t.PrincipalDirectory = _directory))
        {
            first = created.Principal.PublicKey;
            Assert.Equal(["flow-orleans-silo"], created.Principal.DefaultBlessings.Names);
        }

        using var again = Load(t => t.PrincipalDirectory = _directory);
        Assert.Equal(first, again.Principal.PublicKey);
    }

    /// <summary>
    /// A Secret mount is read-only; the silo must not need to write. The test runs as root, where file modes do not
    /// stop writes, so it proves the stronger thing: loading writes nothing at all, for an issued principal and for one
    /// without blessings (which the silo blesses in memory).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AStoredPrincipalLoadsWithoutWritingAndConfiguredRootsJoinItsOwn(bool issued)
    {
        using var world = new TrustWorld();
        using var partner = new TrustWorld();
        using (var stored = issued ? world.Blessed("silo") : Principal.CreateInMemory())
        {
            stored.Save(_directory);
        }

        var before = Directory.GetFiles(_directory).ToDictionary(f => f, f => (File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f)));
        using (var loaded = Load(t =>
        {
            t.PrincipalDirectory = _directory;
            t.BlessingName = "bare-silo";
            t.Roots.Add(new TrustedRoot { PublicKey = partner.RootKey, Pattern = "partner" });
        }))
        {
            Assert.Equal([issued ? "acme:silo" : "bare-silo"], loaded.Principal.DefaultBlessings.Names);
            Assert.Equal(issued, loaded.Principal.Roots.IsRecognized(world.Root.PublicKey, "acme:silo"));
            Assert.True(loaded.Principal.Roots.IsRecognized(partner.Root.PublicKey, "partner:x"));
        }

        Assert.Equal(before.Keys.Order(), Directory.GetFiles(_directory).Order());
        foreach (var (file, (bytes, written)) in before)
        {
            Assert.Equal(bytes, File.ReadAllBytes(file));
            Assert.Equal(written, File.GetLastWriteTimeUtc(file));
        }
    }

    [Fact]
    public void ACorruptDirectoryStopsTheStartRatherThanBeingReplaced()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "privatekey.pem"), "not a key");
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Load(t => t.PrincipalDirectory = _directory)).Code);
        Assert.Equal("not a key", File.ReadAllText(Path.Combine(_directory, "privatekey.pem")));
    }
}
