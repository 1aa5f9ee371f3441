using FlowOrleans.Transport;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>
/// Which field of an encoded Setup each byte belongs to, read from the bytes as docs/architecture.md 3.1 lays them
/// out, and which codes the side receiving a Setup with a byte changed in that field may fail with.
/// </summary>
internal static class SetupLayout
{
    private const string LengthSuffix = " length";

    /// <summary>The field of each byte of <paramref name="setup"/>: <c>type</c>, <c>length</c>, a field name, or a field name and " length" for its prefix.</summary>
    public static string[] FieldOfEachByte(byte[] setup)
    {
        var fields = new string[setup.Length];
        var at = 0;
        void Mark(string name, int count)
        {
            for (var end = at + count; at < end; at++)
            {
                fields[at] = name;
            }
        }

        ulong Varint(string name)
        {
            var start = at;
            ulong value = 0;
            var shift = 0;
            byte b;
            do
            {
                b = setup[start + (shift / 7)];
                value |= (ulong)(b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);
            Mark(name, shift / 7);
            return value;
        }

        void Bytes(string name) => Mark(name, (int)Varint(name + LengthSuffix));

        Mark("type", 1);
        Varint("length");
        Varint("minVersion");
        Varint("maxVersion");
        Bytes("ephemeralKey");
        Bytes("localEndpoint");
        Bytes("remoteEndpoint");
        Varint("mtu");
        Varint("sharedCredit");
        Bytes("ciphers");
        Bytes("nonce");
        if (at != setup.Length)
        {
            throw new InvalidOperationException($"The Setup has {setup.Length - at} bytes after its last field: the layout here no longer matches the codec.");
        }

        return fields;
    }

    /// <summary>
    /// The codes a side may fail with when the Setup it received had a byte of <paramref name="field"/> changed:
    /// a broken structure is BadArg; values the handshake checks have their own codes (3.2); anything else changes
    /// only the transcript, so the first record fails to open (Network).
    /// </summary>
    public static FlowErrorCode[] CodesForChanged(string field, Side receiver)
    {
        if (field is "type" or "length" || field.EndsWith(LengthSuffix, StringComparison.Ordinal))
        {
            return [FlowErrorCode.BadArg];
        }

        return field switch
        {
            // A varint whose continuation bit flips swallows the next byte: the structure breaks (BadArg).
            "minVersion" or "maxVersion" => [FlowErrorCode.BadArg, FlowErrorCode.BadState, FlowErrorCode.Network],
            "ephemeralKey" => [FlowErrorCode.Auth],

            // Only the dialer checks the routing ID in the acceptor's endpoint; strings must also be valid UTF-8.
            "localEndpoint" => receiver == Side.Dialer
                ? [FlowErrorCode.BadArg, FlowErrorCode.NotTrusted, FlowErrorCode.Network]
                : [FlowErrorCode.BadArg, FlowErrorCode.Network],
            "remoteEndpoint" or "mtu" or "sharedCredit" => [FlowErrorCode.BadArg, FlowErrorCode.Network],
            "ciphers" => [FlowErrorCode.BadState, FlowErrorCode.Network],
            "nonce" => [FlowErrorCode.Network],
            _ => throw new ArgumentOutOfRangeException(nameof(field), field, "not a Setup field"),
        };
    }
}
