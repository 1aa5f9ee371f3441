using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// The process-wide cache of blessings whose signatures verified: a repeat decode of the same bytes skips the key
/// imports and signature checks, but any change to the bytes, and everything that depends on the call, is checked.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class VerifiedBlessingsCacheTests : IDisposable
{
    private readonly SecurityTestWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void VerifiedBlessingsDecodeAgainToTheSameInstance()
    {
        var bytes = _world.PhoneBlessings().ToBytes();
        var first = Blessings.Decode(bytes);
        Assert.Equal(["root:alice:phone"], BlessingValidator.ValidateOrThrow(first, _world.Verifier.Roots, SecurityTestWorld.Call()).AcceptedNames);

        var again = Blessings.Decode(bytes);

        Assert.Same(first, again);
        Assert.Equal(["root:alice:phone"], BlessingValidator.ValidateOrThrow(again, _world.Verifier.Roots, SecurityTestWorld.Call()).AcceptedNames);
    }

    [Fact]
    public void UnverifiedBlessingsAreNotCached()
    {
        // Decoding alone proves nothing about signatures, so it must not make the next decode trusted.
        var bytes = _world.PhoneBlessings().ToBytes();

        Assert.NotSame(Blessings.Decode(bytes), Blessings.Decode(bytes));
    }

    [Fact]
    public void TamperedSignatureIsRejectedAfterTheGenuineChainWasCached()
    {
        var genuine = _world.PhoneBlessings().ToBytes();
        var cached = Blessings.Decode(genuine);
        BlessingValidator.ValidateOrThrow(cached, _world.Verifier.Roots, SecurityTestWorld.Call());
        Assert.Same(cached, Blessings.Decode(genuine));

        // The encoding ends with the last link's signature, r then s; changing r keeps it well formed.
        var tampered = (byte[])genuine.Clone();
        tampered[^40] ^= 0x01;

        var decoded = Blessings.Decode(tampered);
        Assert.NotSame(cached, decoded);
        Assert.Equal(cached.Names, decoded.Names);
        var e = Assert.Throws<FlowException>(() => BlessingValidator.ValidateOrThrow(decoded, _world.Verifier.Roots, SecurityTestWorld.Call()));
        Assert.Equal(FlowErrorCode.Auth, e.Code);

        // A failed check is not remembered as a success either: every decode of the forgery is checked afresh.
        var again = Blessings.Decode(tampered);
        Assert.NotSame(decoded, again);
        Assert.Equal(FlowErrorCode.Auth, Assert.Throws<FlowException>(() =>
            BlessingValidator.ValidateOrThrow(again, _world.Verifier.Roots, SecurityTestWorld.Call())).Code);
    }

    [Fact]
    public void CaveatsAreStillCheckedOnEveryCallOfACachedChain()
    {
        var bytes = _world.PhoneBlessings(Caveat.Expiry(SecurityTestWorld.Now)).ToBytes();
        var cached = Blessings.Decode(bytes);
        Assert.Single(BlessingValidator.Validate(cached, _world.Verifier.Roots, SecurityTestWorld.Call()).AcceptedNames);
        Assert.Same(cached, Blessings.Decode(bytes));

        var late = SecurityTestWorld.Call(now: SecurityTestWorld.Now.AddSeconds(1));
        var result = BlessingValidator.Validate(Blessings.Decode(bytes), _world.Verifier.Roots, late);

        Assert.Empty(result.AcceptedNames);
        Assert.Equal(FlowErrorCode.NotTrusted, Assert.Single(result.Rejected).Code);
    }

    [Fact]
    public void RootsAreStillCheckedOnEveryCallOfACachedChain()
    {
        var bytes = _world.PhoneBlessings().ToBytes();
        var cached = Blessings.Decode(bytes);
        BlessingValidator.ValidateOrThrow(cached, _world.Verifier.Roots, SecurityTestWorld.Call());

        // A verifier that does not trust "root" gets the same cached instance and still refuses its name.
        var stranger = _world.NewPrincipal();
        var result = BlessingValidator.Validate(Blessings.Decode(bytes), stranger.Roots, SecurityTestWorld.Call());

        Assert.Empty(result.AcceptedNames);
        Assert.Equal(FlowErrorCode.NotTrusted, Assert.Single(result.Rejected).Code);
    }

    [Fact]
    public void CacheIsBoundedAndEvictsTheLeastRecentlyUsed()
    {
        var cache = new VerifiedBlessingsCache(capacity: 2);
        var a = _world.NewPrincipal().BlessSelf("a");
        var b = _world.NewPrincipal().BlessSelf("b");
        var c = _world.NewPrincipal().BlessSelf("c");

        cache.AddVerified(a, a.ToBytes());
        cache.AddVerified(b, b.ToBytes());
        Assert.True(cache.TryGet(a.ToBytes(), out _)); // a is now more recent than b
        cache.AddVerified(c, c.ToBytes());

        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet(b.ToBytes(), out _));
        Assert.True(cache.TryGet(a.ToBytes(), out var hitA));
        Assert.Same(a, hitA);
        Assert.True(cache.TryGet(c.ToBytes(), out var hitC));
        Assert.Same(c, hitC);
    }

    [Fact]
    public void SharedCacheStaysWithinItsCapacity()
    {
        var shared = VerifiedBlessingsCache.Shared;
        for (var i = 0; i < shared.Capacity + 8; i++)
        {
            var blessings = _world.NewPrincipal().BlessSelf("n" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Null(Blessings.Decode(blessings.ToBytes()).SignatureError);
        }

        Assert.Equal(shared.Capacity, shared.Count);
    }

    [Fact]
    public void LookupComparesTheWholeEncoding()
    {
        var cache = new VerifiedBlessingsCache(capacity: 4);
        var a = _world.NewPrincipal().BlessSelf("a");
        var bytes = a.ToBytes();
        cache.AddVerified(a, bytes);

        Assert.True(cache.TryGet((byte[])bytes.Clone(), out _));
        Assert.False(cache.TryGet(bytes.AsSpan(0, bytes.Length - 1), out _));
        Assert.False(cache.TryGet([.. bytes, 0], out _));
    }
}
