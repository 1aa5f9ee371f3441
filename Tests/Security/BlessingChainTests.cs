using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class BlessingChainTests : IDisposable
{
    private readonly SecurityTestWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void ValidChainOfThreeIsAcceptedAndNamed()
    {
        var phone = _world.PhoneBlessings();

        Assert.Equal(["root:alice:phone"], phone.Names);
        Assert.Equal(_world.Phone.PublicKey, phone.PublicKey);
        Assert.Equal(["root", "alice", "phone"], phone.Chains.Single().Select(c => c.Extension));

        var result = BlessingValidator.ValidateOrThrow(Blessings.Decode(phone.ToBytes()), _world.Verifier.Roots, SecurityTestWorld.Call());
        Assert.Equal(["root:alice:phone"], result.AcceptedNames);
        Assert.Empty(result.Rejected);
    }

    [Fact]
    public void LinkSignedByTheWrongKeyFailsWithAuth()
    {
        // Mallory holds root:alice (it is public) and appends a link signed with her own key,
        // claiming alice blessed her.
        var mallory = _world.NewPrincipal();
        var aliceChain = _world.AliceBlessings.ChainSpan[0];
        var forgedLink = mallory.SignCertificate(aliceChain[^1].ChainDigest, "mallory", mallory.PublicKey, [Caveat.Unconstrained]);
        var forged = Blessings.FromChains([[.. aliceChain, forgedLink]]);

        var result = _world.ValidateWire(forged, SecurityTestWorld.Call());

        Assert.Empty(result.AcceptedNames);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal("root:alice:mallory", rejected.Name);
        Assert.Equal(FlowErrorCode.Auth, rejected.Code);
        var e = Assert.Throws<FlowException>(() =>
            BlessingValidator.ValidateOrThrow(Blessings.Decode(forged.ToBytes()), _world.Verifier.Roots, SecurityTestWorld.Call()));
        Assert.Equal(FlowErrorCode.Auth, e.Code);
    }

    [Fact]
    public void SelfSignedRootWithAForeignSignatureFailsWithAuth()
    {
        // A first link must be signed by its own key: "root" re-issued for alice's key but signed by root.
        var link = _world.Root.SignCertificate(default, "root", _world.Alice.PublicKey, []);
        var forged = Blessings.FromChains([[link]]);

        var e = Assert.Throws<FlowException>(() =>
            BlessingValidator.ValidateOrThrow(Blessings.Decode(forged.ToBytes()), _world.Verifier.Roots, SecurityTestWorld.Call()));
        Assert.Equal(FlowErrorCode.Auth, e.Code);
    }

    [Fact]
    public void LinkSplicedOntoAnotherChainOfTheSameKeyFailsWithAuth()
    {
        // Alice holds root:alice and other:alice (same key). A link she signed under root:alice must not
        // verify under other:alice, although the signing key is the same.
        var other = _world.NewPrincipal();
        var otherBlessings = other.BlessSelf("other");
        var otherAlice = other.Bless(_world.Alice.PublicKey, otherBlessings, "alice", Caveat.Unconstrained);
        _world.Verifier.Roots.AddRootsOf(otherBlessings);

        var phone = _world.PhoneBlessings();
        var phoneLink = phone.ChainSpan[0][^1];
        Certificate[] spliced = [.. otherAlice.ChainSpan[0], phoneLink];

        // The control: the honest chain other:alice:phone is accepted.
        var honest = _world.Alice.Bless(_world.Phone.PublicKey, otherAlice, "phone", Caveat.Unconstrained);
        Assert.Equal(["other:alice:phone"], _world.ValidateWire(honest, SecurityTestWorld.Call()).AcceptedNames);

        // Encoding carries only the link's fields and signature; decoding re-derives what it was signed over.
        var result = _world.ValidateWire(Blessings.FromChains([spliced]), SecurityTestWorld.Call());

        Assert.Empty(result.AcceptedNames);
        Assert.Equal(FlowErrorCode.Auth, Assert.Single(result.Rejected).Code);
        Assert.Equal("other:alice:phone", result.Rejected[0].Name);
    }

    [Fact]
    public void UnrecognizedRootIsNotTrusted()
    {
        var phone = _world.PhoneBlessings();
        using var stranger = Principal.CreateInMemory();

        var result = BlessingValidator.Validate(phone, stranger.Roots, SecurityTestWorld.Call());

        Assert.Empty(result.AcceptedNames);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(FlowErrorCode.NotTrusted, rejected.Code);
        var e = Assert.Throws<FlowException>(() => BlessingValidator.ValidateOrThrow(phone, stranger.Roots, SecurityTestWorld.Call()));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public void ImpostorRootWithTheSameNameIsNotTrusted()
    {
        var impostor = _world.NewPrincipal();
        var fakeRoot = impostor.BlessSelf("root");
        var fakeAlice = impostor.Bless(_world.Alice.PublicKey, fakeRoot, "alice", Caveat.Unconstrained);

        var result = _world.ValidateWire(fakeAlice, SecurityTestWorld.Call());

        Assert.Empty(result.AcceptedNames);
        Assert.Equal(FlowErrorCode.NotTrusted, Assert.Single(result.Rejected).Code);
    }

    [Fact]
    public void RootIsRecognizedOnlyForItsPatterns()
    {
        using var verifier = Principal.CreateInMemory();
        verifier.Roots.Add(_world.Root.PublicKey, BlessingPattern.Parse("root:bob"));
        var phone = _world.PhoneBlessings();

        Assert.Empty(BlessingValidator.Validate(phone, verifier.Roots, SecurityTestWorld.Call()).AcceptedNames);

        verifier.Roots.Add(_world.Root.PublicKey, BlessingPattern.Parse("root:alice"));
        Assert.Equal(["root:alice:phone"], BlessingValidator.Validate(phone, verifier.Roots, SecurityTestWorld.Call()).AcceptedNames);
    }

    [Fact]
    public void BlessingsBoundToAnotherKeyThanThePeerProvedFailWithAuth()
    {
        var phone = _world.PhoneBlessings();
        var call = new SecurityCall { Now = SecurityTestWorld.Now, RemotePublicKey = _world.Alice.PublicKey };

        var e = Assert.Throws<FlowException>(() => BlessingValidator.ValidateOrThrow(phone, _world.Verifier.Roots, call));
        Assert.Equal(FlowErrorCode.Auth, e.Code);

        var matching = new SecurityCall { Now = SecurityTestWorld.Now, RemotePublicKey = _world.Phone.PublicKey };
        Assert.Equal(["root:alice:phone"], BlessingValidator.ValidateOrThrow(phone, _world.Verifier.Roots, matching).AcceptedNames);
    }

    [Fact]
    public void UnionKeepsEveryChainAndIsValidatedPerChain()
    {
        var other = _world.NewPrincipal();
        var otherPhone = other.Bless(_world.Phone.PublicKey, other.BlessSelf("other"), "phone", Caveat.Unconstrained);
        var phone = _world.PhoneBlessings();

        var union = Blessings.Union(phone, otherPhone);

        Assert.Equal(union, Blessings.Union(otherPhone, phone, Blessings.Empty, phone));
        Assert.Equal(["other:phone", "root:alice:phone"], union.Names);
        var result = _world.ValidateWire(union, SecurityTestWorld.Call());
        Assert.Equal(["root:alice:phone"], result.AcceptedNames);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(("other:phone", FlowErrorCode.NotTrusted), (rejected.Name, rejected.Code));
    }

    [Fact]
    public void BlessingWithAUnionExtendsEveryChain()
    {
        var other = _world.NewPrincipal();
        var otherAlice = other.Bless(_world.Alice.PublicKey, other.BlessSelf("other"), "alice", Caveat.Unconstrained);
        var aliceBoth = Blessings.Union(_world.AliceBlessings, otherAlice);
        _world.Verifier.Roots.AddRootsOf(otherAlice);

        var phone = _world.Alice.Bless(_world.Phone.PublicKey, aliceBoth, "phone", Caveat.Unconstrained);

        Assert.Equal(["other:alice:phone", "root:alice:phone"], _world.ValidateWire(phone, SecurityTestWorld.Call()).AcceptedNames);
    }

    [Fact]
    public void UnionOfDifferentKeysIsBadArg()
    {
        var e = Assert.Throws<FlowException>(() => Blessings.Union(_world.RootBlessings, _world.AliceBlessings));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
    }

    [Fact]
    public void BlessingRequiresOwningTheBlessingsAndAValidExtension()
    {
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() =>
            _world.Phone.Bless(_world.Phone.PublicKey, _world.AliceBlessings, "x", Caveat.Unconstrained)).Code);
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() =>
            _world.Alice.Bless(_world.Phone.PublicKey, Blessings.Empty, "x", Caveat.Unconstrained)).Code);
        foreach (var bad in new[] { "", "$", "a::b", ":a", "a:", "a...b", "a,b", "a@@b", "a(b", "a)b", "a<b", "a>b", "a/b" })
        {
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() =>
                _world.Alice.Bless(_world.Phone.PublicKey, _world.AliceBlessings, bad, Caveat.Unconstrained)).Code);
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => _world.Phone.BlessSelf(bad)).Code);
        }

        // An extension may itself hold ':' (not doubled, not at an end), as in Vanadium.
        var multi = _world.Alice.Bless(_world.Phone.PublicKey, _world.AliceBlessings, "devices:phone", Caveat.Unconstrained);
        Assert.Equal(["root:alice:devices:phone"], _world.ValidateWire(multi, SecurityTestWorld.Call()).AcceptedNames);
    }

    [Fact]
    public void DefaultBlessingsMustBeBoundToThePrincipal()
    {
        Assert.True(_world.Phone.DefaultBlessings.IsEmpty);
        var e = Assert.Throws<FlowException>(() => _world.Phone.DefaultBlessings = _world.AliceBlessings);
        Assert.Equal(FlowErrorCode.BadArg, e.Code);

        var phone = _world.PhoneBlessings();
        _world.Phone.DefaultBlessings = phone;
        Assert.Same(phone, _world.Phone.DefaultBlessings);
    }

    [Fact]
    public void EmptyBlessingsHaveNoNamesAndAreNotTrusted()
    {
        Assert.True(Blessings.Empty.IsEmpty);
        Assert.Null(Blessings.Empty.PublicKey);
        Assert.Empty(Blessings.Empty.Names);
        var result = BlessingValidator.Validate(Blessings.Empty, _world.Verifier.Roots, SecurityTestWorld.Call());
        Assert.Empty(result.AcceptedNames);
        Assert.Empty(result.Rejected);
        Assert.Equal(FlowErrorCode.NotTrusted, Assert.Throws<FlowException>(() =>
            BlessingValidator.ValidateOrThrow(Blessings.Empty, _world.Verifier.Roots, SecurityTestWorld.Call())).Code);
    }
}
