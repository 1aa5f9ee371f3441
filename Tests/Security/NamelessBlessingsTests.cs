using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// Public-key-only blessings, after Vanadium's <c>security.NamelessBlessing</c>: a key and no names, which a peer can
/// present to prove the key it holds without saying who it is.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class NamelessBlessingsTests : IDisposable
{
    private readonly SecurityTestWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void NamelessBlessingsCarryTheKeyAndNoNamesAndAreNotEmpty()
    {
        // Vanadium: a nameless blessing has a public key, no blessing names, and is not the zero Blessings.
        var nameless = Blessings.Nameless(_world.Alice.PublicKey);
        Assert.True(nameless.IsNameless);
        Assert.False(nameless.IsEmpty);
        Assert.Equal(_world.Alice.PublicKey, nameless.PublicKey);
        Assert.Empty(nameless.Names);
        Assert.Empty(nameless.Chains);
        Assert.Empty(nameless.ThirdPartyCaveats);
        Assert.False(Blessings.Empty.IsNameless);
        Assert.True(Blessings.Empty.IsEmpty);
    }

    [Fact]
    public void NamelessBlessingsRoundTripAndDifferByKey()
    {
        var nameless = Blessings.Nameless(_world.Alice.PublicKey);
        var decoded = Blessings.Decode(nameless.ToBytes());
        Assert.Equal(nameless, decoded);
        Assert.True(decoded.IsNameless);
        Assert.Equal(_world.Alice.PublicKey, decoded.PublicKey);
        Assert.Equal(nameless, Blessings.Nameless(_world.Alice.PublicKey));
        Assert.NotEqual(nameless, Blessings.Nameless(_world.Phone.PublicKey));
        Assert.NotEqual(Blessings.Empty, nameless);
        Assert.Same(Blessings.Empty, Blessings.Decode(Blessings.Empty.ToBytes()));
    }

    [Fact]
    public void MalformedNamelessEncodingsAreRejected()
    {
        var bytes = Blessings.Nameless(_world.Alice.PublicKey).ToBytes();
        AssertBadArg(() => Blessings.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        AssertBadArg(() => Blessings.Decode([.. bytes, 0]));
        var notAKey = (byte[])bytes.Clone();
        notAKey[^1] ^= 0xFF; // a point off the curve
        AssertBadArg(() => Blessings.Decode(notAKey));
        AssertBadArg(() => Blessings.Decode([1, 0, 0]));
    }

    [Fact]
    public async Task AuthorizersThatAcceptAnyKeyAcceptNamelessBlessingsWithNoNames()
    {
        // Vanadium: AllowEveryone accepts any peer; a nameless peer earns no names and has none rejected.
        var nameless = Blessings.Nameless(_world.Alice.PublicKey);
        var result = BlessingValidator.Validate(nameless, _world.Verifier.Roots, SecurityTestWorld.Call());
        Assert.Empty(result.AcceptedNames);
        Assert.Empty(result.Rejected);

        var verdict = await PeerAuthorizers.AllowEveryone(_world.Verifier).AuthorizePeerAsync(Context(nameless), CancellationToken.None);
        Assert.Empty(verdict.AcceptedNames);
    }

    [Fact]
    public async Task OnlyTheAllPrincipalsPatternMatchesNamelessBlessings()
    {
        // Vanadium: a peer with no names matches no pattern but AllPrincipals ("...").
        var nameless = Blessings.Nameless(_world.Alice.PublicKey);
        var e = await Assert.ThrowsAsync<FlowException>(async () => await PeerAuthorizers.RequireBlessings(_world.Verifier, "root:alice", "root")
            .AuthorizePeerAsync(Context(nameless), CancellationToken.None));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
        var strict = Assert.Throws<FlowException>(() => BlessingValidator.ValidateOrThrow(nameless, _world.Verifier.Roots, SecurityTestWorld.Call()));
        Assert.Equal(FlowErrorCode.NotTrusted, strict.Code);
        Assert.Contains("only its public key", strict.Message);
        var all = await PeerAuthorizers.RequireBlessings(_world.Verifier, "...").AuthorizePeerAsync(Context(nameless), CancellationToken.None);
        Assert.Empty(all.AcceptedNames);
    }

    [Fact]
    public void NamelessBlessingsBoundToAnotherKeyThanTheOneProvedAreAForgery()
    {
        var call = new SecurityCall { Now = SecurityTestWorld.Now, RemotePublicKey = _world.Phone.PublicKey };
        var result = BlessingValidator.Validate(Blessings.Nameless(_world.Alice.PublicKey), _world.Verifier.Roots, call);
        Assert.Empty(result.AcceptedNames);
        var e = Assert.Throws<FlowException>(() => BlessingValidator.ValidateOrThrow(Blessings.Nameless(_world.Alice.PublicKey), _world.Verifier.Roots, call));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public void AUnionIgnoresNamelessBlessingsUnlessNothingElseHasANameLikeVanadiumsUnion()
    {
        var nameless = Blessings.Nameless(_world.Alice.PublicKey);
        Assert.Equal(_world.AliceBlessings, Blessings.Union(nameless, _world.AliceBlessings));
        Assert.Equal(_world.AliceBlessings, Blessings.Union(_world.AliceBlessings, nameless, Blessings.Empty));
        Assert.Equal(nameless, Blessings.Union(Blessings.Empty, nameless, nameless));
        AssertBadArg(() => Blessings.Union(Blessings.Nameless(_world.Phone.PublicKey), _world.AliceBlessings));
        AssertBadArg(() => Blessings.Union(nameless, Blessings.Nameless(_world.Phone.PublicKey)));
    }

    [Fact]
    public void NamelessBlessingsCanBeADefaultButCannotBlessOthers()
    {
        var nameless = Blessings.Nameless(_world.Alice.PublicKey);
        _world.Alice.DefaultBlessings = nameless;
        Assert.Equal(nameless, _world.Alice.DefaultBlessings);
        AssertBadArg(() => _world.Alice.DefaultBlessings = Blessings.Nameless(_world.Phone.PublicKey));
        AssertBadArg(() => _world.Alice.Bless(_world.Phone.PublicKey, nameless, "phone", Caveat.Unconstrained));
    }

    private static PeerAuthorizationContext Context(Blessings remote) => new(
        Endpoint.ForRoutingId(RoutingId.NewRandom()), Endpoint.ForRoutingId(RoutingId.NewRandom()), remote, Discharges.Empty, SecurityTestWorld.Now);

    private static void AssertBadArg(Action action) => Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(action).Code);
}
