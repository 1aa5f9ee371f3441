using System.Buffers;
using CsCheck;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EncodingTests : IDisposable
{
    private static readonly byte[] s_flipMasks = [0x01, 0x80, 0xFF];

    private readonly SecurityTestWorld _world = new();
    private readonly Principal _discharger;
    private readonly Blessings _rich;
    private readonly Discharges _discharges;

    public EncodingTests()
    {
        // Two chains bound to the phone key, with every kind of caveat, so flips hit every field type.
        _discharger = _world.NewPrincipal();
        var thirdParty = ThirdPartyCaveat.Create(_discharger.PublicKey, "/discharger", ThirdPartyRequirements.ReportMethod, Caveat.Method("Read"));
        var viaAlice = _world.PhoneBlessings(Caveat.Method("Read", "Write"), Caveat.Expiry(SecurityTestWorld.Now.AddDays(1)), thirdParty);
        var other = _world.NewPrincipal();
        var otherBlessings = other.BlessSelf("other");
        _world.Verifier.Roots.AddRootsOf(otherBlessings);
        var viaOther = other.Bless(_world.Phone.PublicKey, otherBlessings, "phone", Caveat.Unconstrained);
        _rich = Blessings.Union(viaAlice, viaOther);
        _discharges = Discharges.Create(_discharger.MintDischarge(thirdParty, Caveat.Expiry(SecurityTestWorld.Now.AddDays(1))));
    }

    private SecurityCall Call => SecurityTestWorld.Call("Read", _discharges);

    public void Dispose() => _world.Dispose();

    [Fact]
    public void BlessingsRoundTripExactly()
    {
        var bytes = _rich.ToBytes();
        var writer = new ArrayBufferWriter<byte>();
        _rich.Encode(writer);

        var decoded = Blessings.Decode(bytes);

        Assert.Equal(bytes, writer.WrittenSpan.ToArray());
        Assert.Equal(_rich, decoded);
        Assert.Equal(_rich.GetHashCode(), decoded.GetHashCode());
        Assert.Equal(bytes, decoded.ToBytes());
        Assert.Equal(_rich.Names, decoded.Names);
        Assert.Equal(_rich.PublicKey, decoded.PublicKey);
        Assert.Equal(["other:phone", "root:alice:phone"], BlessingValidator.ValidateOrThrow(decoded, _world.Verifier.Roots, Call).AcceptedNames);
        Assert.Same(Blessings.Empty, Blessings.Decode(Blessings.Empty.ToBytes()));
        Assert.NotEqual(_rich, _world.PhoneBlessings());
    }

    [Fact]
    public void FlippingAnyByteOfBlessingsIsRejectedAsBadArgOrAuth()
    {
        var original = _rich.ToBytes();
        Assert.Equal(2, BlessingValidator.ValidateOrThrow(Blessings.Decode(original), _world.Verifier.Roots, Call).AcceptedNames.Count);

        for (var i = 0; i < original.Length; i++)
        {
            foreach (var mask in s_flipMasks)
            {
                var tampered = (byte[])original.Clone();
                tampered[i] ^= mask;

                Blessings decoded;
                try
                {
                    decoded = Blessings.Decode(tampered);
                }
                catch (FlowException e)
                {
                    Assert.True(e.Code == FlowErrorCode.BadArg, $"byte {i} ^ {mask:x2}: decode failed with {e.Code}");
                    continue;
                }

                var result = BlessingValidator.Validate(decoded, _world.Verifier.Roots, Call);
                Assert.True(result.AcceptedNames.Count == 0, $"byte {i} ^ {mask:x2}: accepted {string.Join(",", result.AcceptedNames)}");
                Assert.All(result.Rejected, r => Assert.Equal(FlowErrorCode.Auth, r.Code));
                var thrown = Assert.Throws<FlowException>(() => BlessingValidator.ValidateOrThrow(decoded, _world.Verifier.Roots, Call));
                Assert.Equal(FlowErrorCode.Auth, thrown.Code);
            }
        }
    }

    [Fact]
    public void EveryTruncationOfBlessingsIsBadArg()
    {
        var original = _rich.ToBytes();
        for (var length = 0; length < original.Length; length++)
        {
            var e = Assert.Throws<FlowException>(() => Blessings.Decode(original.AsSpan(0, length)));
            Assert.Equal(FlowErrorCode.BadArg, e.Code);
        }

        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Blessings.Decode([.. original, 0])).Code);
    }

    [Fact]
    public void FlippingAnyByteOfADischargeNeverYieldsAnAcceptedName()
    {
        var phone = Blessings.Decode(_rich.ToBytes());
        var original = _discharges.ToBytes();

        for (var i = 0; i < original.Length; i++)
        {
            foreach (var mask in s_flipMasks)
            {
                var tampered = (byte[])original.Clone();
                tampered[i] ^= mask;

                Discharges decoded;
                try
                {
                    decoded = Discharges.Decode(tampered);
                }
                catch (FlowException e)
                {
                    Assert.Equal(FlowErrorCode.BadArg, e.Code);
                    continue;
                }

                var result = BlessingValidator.Validate(phone, _world.Verifier.Roots, SecurityTestWorld.Call("Read", decoded));
                Assert.Equal(["other:phone"], result.AcceptedNames);
                Assert.Equal(FlowErrorCode.NotTrusted, Assert.Single(result.Rejected).Code);
            }
        }
    }

    [Fact]
    public void EveryTruncationOfDischargesIsBadArg()
    {
        var set = _discharges.ToBytes();
        var single = _discharges.Values.Single().ToBytes();
        for (var length = 0; length < set.Length; length++)
        {
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Discharges.Decode(set.AsSpan(0, length))).Code);
        }

        for (var length = 0; length < single.Length; length++)
        {
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Discharge.Decode(single.AsSpan(0, length))).Code);
        }
    }

    [Fact]
    public void NonCanonicalEncodingsAreBadArg()
    {
        var bytes = _rich.ToBytes();
        var chainA = Blessings.FromChains([_rich.ChainSpan[0]]).ToBytes()[2..];
        var chainB = Blessings.FromChains([_rich.ChainSpan[1]]).ToBytes()[2..];

        // Chains out of canonical order, a duplicated chain, an unknown version.
        byte[] swapped = [1, 2, .. chainB, .. chainA];
        byte[] duplicated = [1, 2, .. chainA, .. chainA];
        byte[] version2 = [2, .. bytes[1..]];
        Assert.Equal(bytes, (byte[])[1, 2, .. chainA, .. chainB]);

        foreach (var encoding in new[] { swapped, duplicated, version2 })
        {
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Blessings.Decode(encoding)).Code);
        }
    }

    [Fact]
    public void CountsAndLengthsOverTheLimitsAreRejectedBeforeAllocating()
    {
        byte[][] inputs =
        [
            [1, 255],                        // 255 chains
            [1, 1, 255],                     // 255 certificates
            [1, 1, 1, 0xFF, 0xFF],           // a 65535-byte extension
            [1, 1, 0],                       // an empty chain
            new byte[SecurityLimits.MaxEncodedBytes + 1],
        ];

        foreach (var input in inputs)
        {
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Blessings.Decode(input)).Code);
        }

        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Discharges.Decode([1, 255])).Code);
    }

    [Fact]
    public void DecodingRandomBytesThrowsNothingButFlowException()
    {
        Gen.Byte.Array[0, 400].Sample(bytes =>
        {
            Try(() => Blessings.Decode(bytes));
            Try(() => Discharge.Decode(bytes));
            Try(() => Discharges.Decode(bytes));
            Try(() => PublicKey.FromBytes(bytes));
        }, iter: 20_000);
    }

    [Fact]
    public void MutatingValidEncodingsThrowsNothingButFlowException()
    {
        var blessings = _rich.ToBytes();
        var discharges = _discharges.ToBytes();
        var key = _world.Phone.PublicKey.Bytes.ToArray();
        var edits = Gen.Select(Gen.Int[0, int.MaxValue], Gen.Byte).Array[1, 4];

        edits.Sample(edit =>
        {
            var b = Mutate(blessings, edit);
            Try(() => BlessingValidator.Validate(Blessings.Decode(b), _world.Verifier.Roots, Call));
            var d = Mutate(discharges, edit);
            Try(() => BlessingValidator.Validate(_rich, _world.Verifier.Roots, SecurityTestWorld.Call("Read", Discharges.Decode(d))));
            Try(() => PublicKey.FromBytes(Mutate(key, edit)));
        }, iter: 2_000);
    }

    private static byte[] Mutate(byte[] original, (int Position, byte Value)[] edits)
    {
        var copy = (byte[])original.Clone();
        foreach (var (position, value) in edits)
        {
            copy[position % copy.Length] = value;
        }

        return copy;
    }

    private static void Try(Action action)
    {
        try
        {
            action();
        }
        catch (FlowException)
        {
        }
    }
}
