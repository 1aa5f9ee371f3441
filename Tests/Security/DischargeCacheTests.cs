using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// A principal's discharge cache (Vanadium's blessing store discharge cache): what the stock authorizers present with
/// blessings that carry third-party caveats.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class DischargeCacheTests : IDisposable
{
    private readonly SecurityTestWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void DischargesForReturnsTheCachedDischargesOfTheBlessingsCaveatsOnly()
    {
        var discharger = _world.NewPrincipal();
        var mine = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var other = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var blessings = _world.PhoneBlessings(mine);
        Assert.Empty(_world.Phone.DischargesFor(blessings));

        var forMine = discharger.MintDischarge(mine, Caveat.Expiry(SecurityTestWorld.Now.AddMinutes(5)));
        _world.Phone.CacheDischarge(forMine);
        _world.Phone.CacheDischarge(discharger.MintDischarge(other, Caveat.Unconstrained));
        Assert.Equal(forMine, Assert.Single(_world.Phone.DischargesFor(blessings)).Value);
        Assert.Empty(_world.Phone.DischargesFor(_world.AliceBlessings));
    }

    [Fact]
    public void ALaterDischargeForTheSameCaveatReplacesTheCachedOneAndSignalsTheChange()
    {
        var discharger = _world.NewPrincipal();
        var caveat = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var blessings = _world.PhoneBlessings(caveat);
        _world.Phone.CacheDischarge(discharger.MintDischarge(caveat, Caveat.Expiry(SecurityTestWorld.Now.AddMinutes(1))));
        var changed = _world.Phone.DischargesChanged;
        Assert.False(changed.IsCompleted);

        var fresh = discharger.MintDischarge(caveat, Caveat.Expiry(SecurityTestWorld.Now.AddMinutes(10)));
        _world.Phone.CacheDischarge(fresh);
        Assert.True(changed.IsCompleted);
        Assert.Equal(fresh, _world.Phone.DischargesFor(blessings)[caveat.DischargeId]);
    }

    [Fact]
    public void StockAuthorizersPresentTheDefaultBlessingsWithTheirCachedDischarges()
    {
        var discharger = _world.NewPrincipal();
        var caveat = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        _world.Phone.DefaultBlessings = _world.PhoneBlessings(caveat);
        var discharge = discharger.MintDischarge(caveat, Caveat.Unconstrained);
        _world.Phone.CacheDischarge(discharge);

        foreach (var authorizer in new[] { PeerAuthorizers.AllowEveryone(_world.Phone), PeerAuthorizers.RequireBlessings(_world.Phone, "root") })
        {
            var (blessings, discharges) = authorizer.BlessingsForPeer(["root"]);
            Assert.Equal(_world.Phone.DefaultBlessings, blessings);
            Assert.Equal(discharge, Assert.Single(discharges).Value);
        }
    }
}
