using FlowOrleans.Transport.Security;

namespace FlowOrleans.Fuzz.Targets;

/// <summary>
/// The binary decoders of Transport/Security. The first input byte picks one (blessings, discharges, one discharge,
/// caveat parameters, a public key, a roots table); the rest is its input. Invariants: malformed input is
/// <see cref="FlowException"/> with <see cref="FlowErrorCode.BadArg"/>, never another exception; a decoded value
/// re-encodes to exactly the input (the encodings are canonical); decoding allocates within a bound linear in the
/// input; decoded blessings go through <see cref="BlessingValidator"/> without throwing, and it accepts only names
/// they claim; caveat parameters validate without throwing, and those that parse re-encode to themselves.
/// </summary>
internal sealed class SecurityDecodersTarget : FuzzTarget
{
    // Decoding copies each certificate's signed message and signature, and its strings as UTF-16: a few times the input.
    private const long FixedAllocation = 16 * 1024;
    private const long AllocationPerByte = 16;

    private static readonly DateTimeOffset Now = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly BlessingRoots Roots = CreateRoots();

    private static readonly Guid[] CaveatIds =
    [
        Caveat.UnconstrainedId, Caveat.ExpiryId, Caveat.MethodId, Caveat.ThirdPartyId, new("00000000-0000-0000-0000-000000000001"),
    ];

    private enum Decoder : byte
    {
        Blessings,
        Discharges,
        Discharge,
        CaveatParameters,
        PublicKey,
        Roots,
    }

    public override string Name => "security-decoders";

    public override int MaxLength => 8 * 1024;

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var decoder = (Decoder)(input[0] % 6);
        var bytes = input[1..].ToArray();
        switch (decoder)
        {
            case Decoder.Blessings:
                if (Decode(bytes, "Blessings.Decode", Blessings.Decode) is { } blessings)
                {
                    CheckBlessings(bytes, blessings);
                }

                break;
            case Decoder.Discharges:
                if (Decode(bytes, "Discharges.Decode", Discharges.Decode) is { } discharges)
                {
                    Invariant.BytesEqual(bytes, discharges.ToBytes(), "re-encoding discharges");
                }

                break;
            case Decoder.Discharge:
                if (Decode(bytes, "Discharge.Decode", Discharge.Decode) is { } discharge)
                {
                    Invariant.BytesEqual(bytes, discharge.ToBytes(), "re-encoding a discharge");
                    _ = discharge.Expiry;
                    _ = discharge.IsSignedBy(FuzzIdentities.DischargerPublicKey);
                }

                break;
            case Decoder.CaveatParameters:
                CheckCaveat(bytes);
                break;
            case Decoder.PublicKey:
                if (Decode(bytes, "PublicKey.FromBytes", PublicKey.FromBytes) is { } key)
                {
                    Invariant.BytesEqual(bytes, key.Bytes.Span, "re-encoding a public key");
                }

                break;
            default:
                if (Decode(bytes, "BlessingRoots.Decode", DecodeRoots) is { } roots)
                {
                    CheckRoots(roots);
                }

                break;
        }
    }

    private delegate T SpanDecoder<T>(ReadOnlySpan<byte> bytes);

    /// <summary>Decodes within the allocation bound; null when the decoder rejected the input the documented way.</summary>
    private static T? Decode<T>(byte[] bytes, string what, SpanDecoder<T> decode)
        where T : class
    {
        T? result = null;
        try
        {
            Invariant.AllocatesAtMost(FixedAllocation + (AllocationPerByte * bytes.Length), what, () => result = decode(bytes));
        }
        catch (FlowException e)
        {
            Invariant.RejectedWith(e, FlowErrorCode.BadArg, what);
        }

        return result;
    }

    private static void CheckBlessings(byte[] bytes, Blessings blessings)
    {
        Invariant.BytesEqual(bytes, blessings.ToBytes(), "Blessings.ToBytes");
        Invariant.BytesEqual(bytes, Blessings.FromChains(blessings.ChainSpan.ToArray()).ToBytes(), "re-encoding the chains of decoded blessings");
        Invariant.True(blessings.Names.Count == blessings.Chains.Count, "blessings have a name count other than their chain count");
        Invariant.True(Blessings.Decode(bytes).Equals(blessings), "decoding the same blessings twice gives unequal values");
        _ = blessings.ThirdPartyCaveats;

        var call = new SecurityCall { Now = Now, Method = "Fuzz", RemotePublicKey = blessings.PublicKey };
        var result = BlessingValidator.Validate(blessings, Roots, call);
        foreach (string name in result.AcceptedNames)
        {
            Invariant.True(blessings.Names.Contains(name), $"the validator accepted \"{name}\", which the blessings do not claim");
        }

        Invariant.True(result.AcceptedNames.Count + result.Rejected.Count == blessings.Names.Count, "the validator lost or invented a name");
        try
        {
            BlessingValidator.ValidateOrThrow(blessings, Roots, call);
        }
        catch (FlowException e) when (e.Code is FlowErrorCode.Auth or FlowErrorCode.NotTrusted)
        {
            Invariant.True(result.AcceptedNames.Count == 0, "ValidateOrThrow refused blessings Validate accepted");
        }
    }

    private static void CheckCaveat(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return;
        }

        var id = CaveatIds[bytes[0] % CaveatIds.Length];
        var parameters = bytes[1..];
        Caveat caveat;
        try
        {
            caveat = new Caveat(id, parameters);
        }
        catch (FlowException e)
        {
            Invariant.RejectedWith(e, FlowErrorCode.BadArg, "new Caveat");
            return;
        }

        _ = caveat.ToString();
        _ = CaveatValidator.Validate(caveat, new SecurityCall { Now = Now, Method = "Fuzz" }, depth: 0);

        if (Caveat.TryReadExpiry(parameters, out var notAfter))
        {
            Invariant.BytesEqual(parameters, Caveat.Expiry(notAfter).Parameters.Span, "re-encoding an expiry caveat");
        }

        if (Caveat.TryReadMethods(parameters, out string[] methods))
        {
            Invariant.BytesEqual(parameters, Caveat.Method(methods).Parameters.Span, "re-encoding a method caveat");
        }

        if (ThirdPartyCaveat.TryFromCaveat(new Caveat(Caveat.ThirdPartyId, parameters), out var thirdParty))
        {
            Invariant.BytesEqual(parameters, thirdParty.ToCaveat().Parameters.Span, "re-encoding a third-party caveat");
            _ = thirdParty.ToString();
        }
    }

    private static BlessingRoots DecodeRoots(ReadOnlySpan<byte> bytes)
    {
        var reader = new SecurityReader(bytes, "roots");
        var roots = BlessingRoots.Decode(ref reader);
        reader.EnsureEnd();
        return roots;
    }

    private static void CheckRoots(BlessingRoots roots)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        roots.Encode(writer);
        var again = DecodeRoots(writer.WrittenSpan);
        var before = roots.Dump();
        var after = again.Dump();
        Invariant.True(before.Count == after.Count && before.All(entry => after.Contains(entry)), "roots do not survive encode-decode");
        foreach (var (key, pattern) in before)
        {
            string value = pattern.Value;
            string name = value == "..." ? "any" : value.EndsWith(":$", StringComparison.Ordinal) ? value[..^2] : value;
            Invariant.True(again.IsRecognized(key, name), $"a decoded root is not recognised for \"{name}\", its own pattern \"{value}\"");
        }
    }

    private static BlessingRoots CreateRoots()
    {
        var roots = new BlessingRoots();
        roots.Add(FuzzIdentities.RootPublicKey, new BlessingPattern(FuzzIdentities.RootName));
        return roots;
    }

    public override IEnumerable<KeyValuePair<string, byte[]>> Seeds()
    {
        var (caveated, discharges) = FuzzIdentities.PeerBlessingsWithThirdPartyCaveat();
        var twoChains = Blessings.Union(
            FuzzIdentities.PeerBlessings(),
            FuzzIdentities.Bless(FuzzIdentities.PeerPublicKey, Caveat.Method("Fuzz", "Other"), Caveat.Expiry(Now)));
        var untrusted = Blessings.FromChains([[Certificate.Create(FuzzIdentities.PeerKey, default, "self", FuzzIdentities.PeerPublicKey, [])]]);
        var thirdParty = ThirdPartyCaveat.Create(FuzzIdentities.DischargerPublicKey, "/d", ThirdPartyRequirements.ReportMethod, Caveat.Method("Fuzz"));

        yield return new("blessings-peer", [(byte)Decoder.Blessings, .. FuzzIdentities.PeerBlessings().ToBytes()]);
        yield return new("blessings-third-party", [(byte)Decoder.Blessings, .. caveated.ToBytes()]);
        yield return new("blessings-two-chains", [(byte)Decoder.Blessings, .. twoChains.ToBytes()]);
        yield return new("blessings-untrusted", [(byte)Decoder.Blessings, .. untrusted.ToBytes()]);
        yield return new("blessings-empty", [(byte)Decoder.Blessings, .. Blessings.Empty.ToBytes()]);
        yield return new("discharges", [(byte)Decoder.Discharges, .. discharges.ToBytes()]);
        yield return new("discharges-empty", [(byte)Decoder.Discharges, .. Discharges.Empty.ToBytes()]);
        yield return new("discharge", [(byte)Decoder.Discharge, .. discharges.Values.First().ToBytes()]);
        yield return new("caveat-expiry", [(byte)Decoder.CaveatParameters, 1, .. Caveat.Expiry(Now).Parameters.Span]);
        yield return new("caveat-method", [(byte)Decoder.CaveatParameters, 2, .. Caveat.Method("Fuzz", "é").Parameters.Span]);
        yield return new("caveat-third-party", [(byte)Decoder.CaveatParameters, 3, .. thirdParty.ToCaveat().Parameters.Span]);
        yield return new("caveat-unconstrained", [(byte)Decoder.CaveatParameters, 0]);
        yield return new("public-key", [(byte)Decoder.PublicKey, .. FuzzIdentities.RootPublicKey.Bytes.Span]);
        yield return new("public-key-off-curve", [(byte)Decoder.PublicKey, .. FuzzIdentities.RootPublicKey.Bytes.Span[..^1], 0]);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Roots.Encode(writer);
        yield return new("roots", [(byte)Decoder.Roots, .. writer.WrittenSpan]);
    }
}
