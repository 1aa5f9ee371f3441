using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;

namespace FlowOrleans.Tests.Security;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class CapabilityTests
{
    [Fact]
    public void FreshCapabilitiesDifferAndNeverPrintTheirSecret()
    {
        var capabilities = Enumerable.Range(0, 1000).Select(_ => Capability.NewRandom()).ToArray();
        Assert.Equal(capabilities.Length, capabilities.Distinct().Count());
        var one = capabilities[0];
        Assert.False(one.IsEmpty);
        Assert.DoesNotContain(one.ToHex(), one.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(one.High.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), new FlowGrant(Guid.NewGuid(), one).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HexRoundTripsAndMalformedTextIsBadArg()
    {
        var capability = Capability.NewRandom();
        Assert.Equal(capability, Capability.Parse(capability.ToHex()));
        foreach (var bad in new[] { "", "00", new string('0', 32), new string('g', 32), capability.ToHex() + "0" })
        {
            Assert.False(Capability.TryParse(bad, out _));
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Capability.Parse(bad)).Code);
        }
    }

    [Fact]
    public void DigestsIdentifyWithoutRevealingAndTheEmptyCapabilityMatchesNothing()
    {
        var capability = Capability.NewRandom();
        var digest = capability.Digest();
        Assert.Equal(64, digest.Length);
        Assert.DoesNotContain(capability.ToHex(), digest, StringComparison.Ordinal);
        Assert.True(capability.MatchesDigest(digest));
        Assert.False(Capability.NewRandom().MatchesDigest(digest));
        Assert.False(default(Capability).MatchesDigest(default(Capability).Digest()));
        Assert.False(default(Capability).Matches(default));
        Assert.True(capability.Matches(Capability.Parse(capability.ToHex())));
        Assert.False(capability.MatchesDigest(null));
    }
}
