using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

/// <summary>How long the names a peer was accepted under hold by the clock alone (what a connection's trust lasts).</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class BlessingExpiryTests : IDisposable
{
    private static readonly DateTimeOffset Soon = SecurityTestWorld.Now.AddMinutes(10);
    private static readonly DateTimeOffset Later = SecurityTestWorld.Now.AddHours(10);
    private readonly SecurityTestWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void TheEarliestExpiryOnTheChainOfAnAcceptedNameCounts()
    {
        // root:alice:phone with two expiries on the phone link, plus a chain of another name that expires sooner.
        var phone = _world.PhoneBlessings(Caveat.Expiry(Later), Caveat.Expiry(Later.AddHours(1)));
        var other = _world.Phone.BlessSelf("other", Caveat.Expiry(Soon));
        var both = Blessings.Union(phone, other);

        Assert.Equal(Later, BlessingExpiry.Of(both, Discharges.Empty, ["root:alice:phone"]));
        Assert.Equal(Soon, BlessingExpiry.Of(both, Discharges.Empty, ["root:alice:phone", "other"]));
    }

    [Fact]
    public void NamesThePeerWasNotAcceptedUnderAndChainsWithoutExpiryBoundNothing()
    {
        var phone = _world.PhoneBlessings(Caveat.Expiry(Soon));

        Assert.Null(BlessingExpiry.Of(phone, Discharges.Empty, []));
        Assert.Null(BlessingExpiry.Of(phone, Discharges.Empty, ["root:alice"]));
        Assert.Null(BlessingExpiry.Of(_world.PhoneBlessings(), Discharges.Empty, ["root:alice:phone"]));
    }

    [Fact]
    public void TheDischargeOfAThirdPartyCaveatBoundsItsChain()
    {
        var discharger = _world.NewPrincipal();
        var thirdParty = ThirdPartyCaveat.Create(discharger.PublicKey, "/discharger", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var phone = _world.PhoneBlessings(thirdParty);
        var discharge = discharger.MintDischarge(thirdParty, Caveat.Expiry(Soon));

        Assert.Equal(Soon, BlessingExpiry.Of(phone, Discharges.Create(discharge), ["root:alice:phone"]));

        // Without its discharge the name does not validate at all; there is no expiry to watch.
        Assert.Null(BlessingExpiry.Of(phone, Discharges.Empty, ["root:alice:phone"]));
    }
}
