using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class CaveatTests : IDisposable
{
    private static readonly DateTimeOffset Now = SecurityTestWorld.Now;

    private readonly SecurityTestWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void ExpiryCaveatHoldsUntilItsTimeInclusive()
    {
        var phone = _world.PhoneBlessings(Caveat.Expiry(Now));

        Assert.Equal(["root:alice:phone"], _world.ValidateWire(phone, SecurityTestWorld.Call(now: Now.AddSeconds(-1))).AcceptedNames);
        Assert.Equal(["root:alice:phone"], _world.ValidateWire(phone, SecurityTestWorld.Call(now: Now)).AcceptedNames);

        var expired = _world.ValidateWire(phone, SecurityTestWorld.Call(now: Now.AddTicks(1)));
        Assert.Empty(expired.AcceptedNames);
        var rejected = Assert.Single(expired.Rejected);
        Assert.Equal(FlowErrorCode.NotTrusted, rejected.Code);
        Assert.Contains("expired", rejected.Reason, StringComparison.Ordinal);
        Assert.Equal(FlowErrorCode.NotTrusted, Assert.Throws<FlowException>(() =>
            BlessingValidator.ValidateOrThrow(phone, _world.Verifier.Roots, SecurityTestWorld.Call(now: Now.AddHours(1)))).Code);
    }

    [Fact]
    public void ExpiredCaveatOnAnAncestorLinkInvalidatesTheDescendant()
    {
        var shortAlice = _world.Root.Bless(_world.Alice.PublicKey, _world.RootBlessings, "alice", Caveat.Expiry(Now.AddMinutes(-1)));
        var phone = _world.Alice.Bless(_world.Phone.PublicKey, shortAlice, "phone", Caveat.Unconstrained);

        var result = _world.ValidateWire(phone, SecurityTestWorld.Call());

        Assert.Empty(result.AcceptedNames);
        Assert.Equal(FlowErrorCode.NotTrusted, Assert.Single(result.Rejected).Code);
    }

    [Fact]
    public void MethodCaveatAllowsOnlyListedMethods()
    {
        var phone = _world.PhoneBlessings(Caveat.Method("Read", "Stat"));

        Assert.Equal(["root:alice:phone"], _world.ValidateWire(phone, SecurityTestWorld.Call("Read")).AcceptedNames);
        Assert.Equal(["root:alice:phone"], _world.ValidateWire(phone, SecurityTestWorld.Call("Stat")).AcceptedNames);
        foreach (var method in new[] { "Write", "read", "ReadX", null })
        {
            var result = _world.ValidateWire(phone, SecurityTestWorld.Call(method));
            Assert.Empty(result.AcceptedNames);
            Assert.Equal(FlowErrorCode.NotTrusted, Assert.Single(result.Rejected).Code);
        }
    }

    [Fact]
    public void MethodCaveatNeedsAtLeastOneNonEmptyMethod()
    {
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Caveat.Method()).Code);
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Caveat.Method("")).Code);
    }

    [Fact]
    public void AllCaveatsOnALinkMustHold()
    {
        var phone = _world.PhoneBlessings(Caveat.Method("Read"), Caveat.Expiry(Now));

        Assert.Single(_world.ValidateWire(phone, SecurityTestWorld.Call("Read")).AcceptedNames);
        Assert.Empty(_world.ValidateWire(phone, SecurityTestWorld.Call("Read", now: Now.AddDays(1))).AcceptedNames);
        Assert.Empty(_world.ValidateWire(phone, SecurityTestWorld.Call("Write")).AcceptedNames);
    }

    [Fact]
    public void UnknownCaveatFailsClosed()
    {
        var phone = _world.PhoneBlessings(new Caveat(Guid.NewGuid(), [1, 2, 3]));

        var result = _world.ValidateWire(phone, SecurityTestWorld.Call("Read"));

        Assert.Empty(result.AcceptedNames);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(FlowErrorCode.NotTrusted, rejected.Code);
        Assert.Contains("unknown caveat", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedParametersOfAKnownCaveatFailClosed()
    {
        var badExpiry = new Caveat(Caveat.Expiry(Now).Id, [1, 2, 3]);
        var badMethod = new Caveat(Caveat.Method("x").Id, [0]);

        Assert.Empty(_world.ValidateWire(_world.PhoneBlessings(badExpiry), SecurityTestWorld.Call()).AcceptedNames);
        Assert.Empty(_world.ValidateWire(_world.PhoneBlessings(badMethod), SecurityTestWorld.Call("x")).AcceptedNames);
    }

    [Fact]
    public void ThirdPartyCaveatWithAValidDischargeIsAccepted()
    {
        var discharger = _world.NewPrincipal();
        var thirdParty = ThirdPartyCaveat.Create(discharger.PublicKey, "/discharger", ThirdPartyRequirements.ReportMethod, Caveat.Method("Read"));
        var phone = _world.PhoneBlessings(thirdParty);
        var discharge = discharger.MintDischarge(thirdParty, Caveat.Expiry(Now.AddMinutes(5)));

        // What travels: the discharge set, encoded alongside the blessings.
        var discharges = Discharges.Decode(Discharges.Create(discharge).ToBytes());
        var result = _world.ValidateWire(phone, SecurityTestWorld.Call(discharges: discharges));

        Assert.Equal(["root:alice:phone"], result.AcceptedNames);
        Assert.Equal(thirdParty.DischargeId, discharge.ThirdPartyCaveatId);
        Assert.Equal(Now.AddMinutes(5), discharge.Expiry);
        var listed = Assert.Single(Blessings.Decode(phone.ToBytes()).ThirdPartyCaveats);
        Assert.Equal(thirdParty.DischargeId, listed.DischargeId);
        Assert.Equal("/discharger", listed.Location);
        Assert.Equal(discharger.PublicKey, listed.Discharger);
        Assert.Equal(ThirdPartyRequirements.ReportMethod, listed.Requirements);
        Assert.Equal(Caveat.Method("Read"), Assert.Single(listed.Caveats));
    }

    [Fact]
    public void ThirdPartyCaveatWithoutADischargeIsNotTrusted()
    {
        var discharger = _world.NewPrincipal();
        var phone = _world.PhoneBlessings(ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained));

        var result = _world.ValidateWire(phone, SecurityTestWorld.Call());

        Assert.Empty(result.AcceptedNames);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(FlowErrorCode.NotTrusted, rejected.Code);
        Assert.Contains("missing discharge", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DischargeSignedByAnotherKeyIsNotTrusted()
    {
        var discharger = _world.NewPrincipal();
        var mallory = _world.NewPrincipal();
        var thirdParty = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var phone = _world.PhoneBlessings(thirdParty);
        var forged = mallory.MintDischarge(thirdParty, Caveat.Unconstrained);

        var result = _world.ValidateWire(phone, SecurityTestWorld.Call(discharges: Discharges.Create(forged)));

        Assert.Empty(result.AcceptedNames);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(FlowErrorCode.NotTrusted, rejected.Code);
        Assert.Contains("not signed by the discharger", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpiredDischargeIsNotTrusted()
    {
        var discharger = _world.NewPrincipal();
        var thirdParty = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var phone = _world.PhoneBlessings(thirdParty);
        var discharge = discharger.MintDischarge(thirdParty, Caveat.Expiry(Now.AddSeconds(-1)));

        var result = _world.ValidateWire(phone, SecurityTestWorld.Call(discharges: Discharges.Create(discharge)));

        Assert.Empty(result.AcceptedNames);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(FlowErrorCode.NotTrusted, rejected.Code);
        Assert.Contains("expired", rejected.Reason, StringComparison.Ordinal);

        // The same discharge was good a little earlier: the expiry, not the signature, rejected it.
        Assert.Single(_world.ValidateWire(phone, SecurityTestWorld.Call(discharges: Discharges.Create(discharge), now: Now.AddSeconds(-2))).AcceptedNames);
    }

    [Fact]
    public void DischargeForAnotherCaveatOfTheSameDischargerDoesNotCount()
    {
        // The nonce makes each caveat distinct, so a discharge cannot be replayed for another blessing.
        var discharger = _world.NewPrincipal();
        var first = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var second = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        Assert.NotEqual(first.DischargeId, second.DischargeId);
        var phone = _world.PhoneBlessings(second);

        var result = _world.ValidateWire(phone, SecurityTestWorld.Call(discharges: Discharges.Create(discharger.MintDischarge(first, Caveat.Unconstrained))));

        Assert.Empty(result.AcceptedNames);
        Assert.Equal(FlowErrorCode.NotTrusted, Assert.Single(result.Rejected).Code);
    }

    [Fact]
    public void DischargesAreKeyedByCaveatIdAndRoundTrip()
    {
        var discharger = _world.NewPrincipal();
        var caveats = Enumerable.Range(0, 3)
            .Select(_ => ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained))
            .ToArray();
        var set = Discharges.Create(caveats.Select(c => discharger.MintDischarge(c, Caveat.Expiry(Now))));

        var decoded = Discharges.Decode(set.ToBytes());

        Assert.Equal(3, decoded.Count);
        foreach (var caveat in caveats)
        {
            Assert.True(decoded.TryGetValue(caveat.DischargeId, out var discharge));
            Assert.Equal(set[caveat.DischargeId], discharge);
            Assert.Equal(set[caveat.DischargeId].ToBytes(), Discharge.Decode(discharge.ToBytes()).ToBytes());
        }

        Assert.Empty(Discharges.Decode(Discharges.Empty.ToBytes()));
    }

    [Fact]
    public void ThirdPartyCaveatConvertsToAndFromACaveat()
    {
        var discharger = _world.NewPrincipal();
        var thirdParty = ThirdPartyCaveat.Create(discharger.PublicKey, "/d", ThirdPartyRequirements.ReportServer, Caveat.Expiry(Now));
        Caveat caveat = thirdParty;

        Assert.True(ThirdPartyCaveat.TryFromCaveat(caveat, out var back));
        Assert.Equal(thirdParty.DischargeId, back.DischargeId);
        Assert.Equal(thirdParty.Nonce.ToArray(), back.Nonce.ToArray());
        Assert.False(ThirdPartyCaveat.TryFromCaveat(Caveat.Unconstrained, out _));
        Assert.False(ThirdPartyCaveat.TryFromCaveat(new Caveat(caveat.Id, [1, 2]), out _));
    }
}
