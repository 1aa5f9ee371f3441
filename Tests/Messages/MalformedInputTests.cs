using System.Buffers;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class MalformedInputTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(0x80)]
    [InlineData(255)]
    public void UnknownTypeIsRejectedFromItsFirstByte(byte type)
    {
        MessageAssert.BadArg(() => Codec.TryRead([type]));
        MessageAssert.BadArg(() => Codec.TryRead([type, 0]));
    }

    [Fact]
    public void BodyLengthAboveTheLimitIsRejectedWithOnlyTheHeaderPresent()
    {
        const int limit = MessageCodec.DefaultMaxMessageSize;

        MessageAssert.BadArg(() => Codec.TryRead([4, .. VarIntBytes(limit + 1UL)]));
        MessageAssert.BadArg(() => Codec.TryRead([4, .. VarIntBytes(ulong.MaxValue)]));

        // At the limit it is a valid header that simply waits for its body.
        Assert.False(Codec.TryRead([4, .. VarIntBytes(limit)]));
    }

    [Fact]
    public void BodyLengthThatMustExceedTheLimitIsRejectedBeforeItsVarIntEnds()
    {
        // Three continuation bytes promise a fourth non-zero byte, so at least 2^21 > the limit.
        MessageAssert.BadArg(() => Codec.TryRead([4, 0x80, 0x80, 0x80]));

        // With a small limit, one continuation byte (value >= 128) is already too much.
        MessageAssert.BadArg(() => Codec.TryRead([4, 0x80], maxMessageSize: 100));
        Assert.False(Codec.TryRead([4, 0x80], maxMessageSize: 128));
    }

    [Fact]
    public void SmallLimitsAreEnforcedExactly()
    {
        byte[] tenByteBody = Codec.Encode(new Data(1, DataFlags.None, new ReadOnlySequence<byte>(new byte[8])));

        Assert.IsType<Data>(Codec.DecodeWhole(tenByteBody, maxMessageSize: 10));
        MessageAssert.BadArg(() => Codec.TryRead(tenByteBody, maxMessageSize: 9));
        MessageAssert.BadArg(() => Codec.TryRead(tenByteBody.AsSpan(0, 2).ToArray(), maxMessageSize: 9));
    }

    [Fact]
    public void NegativeLimitIsAnArgumentError()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Codec.TryRead([8, 0], maxMessageSize: -1));
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        // Varints: overlong (a last byte of zero), eleven bytes, a tenth byte above 1.
        { "overlong body length", [6, 0x81, 0x00, 0] },
        { "overlong zero body length", [8, 0x80, 0x00] },
        { "overlong nonce", [6, 2, 0x80, 0x00] },
        { "overlong nonce, three bytes", [6, 3, 0xFF, 0x80, 0x00] },
        { "nonce of eleven bytes", [6, 11, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00] },
        { "nonce overflowing 64 bits", [6, 10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02] },
        { "nonce truncated by its body", [6, 1, 0x80, 0x01] },

        // Flags: undefined bits, however encoded.
        { "data flag 2", [4, 2, 1, 2] },
        { "data flag 0x80", [4, 3, 1, 0x80, 0x01] },
        { "data flags overlong", [4, 3, 1, 0x81, 0x00] },
        { "open flow flag 4", [3, 3, 1, 1, 4] },
        { "data without flags", [4, 1, 1] },
        { "empty data body", [4, 0] },

        // Strict bodies: trailing bytes after the last field.
        { "health check with trailing byte", [6, 2, 5, 0] },
        { "lame duck with body", [8, 1, 0] },
        { "ack lame duck with body", [9, 2, 0, 0] },
        { "proxy request with body", [11, 1, 7] },
        { "teardown with trailing byte", [10, 3, 1, (byte)'x', 0] },
        { "close flow with trailing byte", [14, 3, 1, 0, 0] },
        { "release with trailing byte", [5, 4, 1, 1, 1, 0] },

        // Lengths and counts beyond the body.
        { "string longer than body", [10, 2, 5, (byte)'x'] },
        { "string length huge", [10, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, (byte)'x'] },
        { "bytes longer than body", [2, 3, 4, 1, 2] },
        { "release count beyond body", [5, 3, 2, 1, 1] },
        { "release count huge", [5, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0] },
        { "release with no credits", [5, 1, 0] },
        { "proxy response count beyond body", [12, 2, 2, 0] },
        { "proxy response count huge", [12, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F] },
        { "missing fields", [7, 0] },

        // Ranges: fields narrower than 64 bits, strings that are not UTF-8.
        { "setup min version above ushort", [1, 11, 0x80, 0x80, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
        { "setup mtu above uint", [1, 13, 1, 1, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0] },
        { "invalid utf-8", [10, 2, 1, 0xFF] },
        { "truncated utf-8 sequence", [10, 3, 2, 0xE2, 0x98] },
        { "utf-8 encoded surrogate", [10, 4, 3, 0xED, 0xA0, 0x80] },
        { "overlong utf-8", [10, 3, 2, 0xC0, 0xAF] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedBodiesAreRejected(string because, byte[] input)
    {
        Assert.NotNull(because);
        MessageAssert.BadArg(() => Codec.TryRead(input));

        // The same bytes split anywhere fail the same way, never with "need more".
        for (int i = 0; i <= input.Length; i++)
        {
            MessageAssert.BadArg(() => MessageCodec.TryRead(Segments.Split(input, [i]), MessageCodec.DefaultMaxMessageSize, out _, out _));
        }
    }

    [Fact]
    public void LargestVarIntsAreAccepted()
    {
        byte[] input = [6, 10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];

        Assert.Equal(new HealthCheckRequest(ulong.MaxValue), Codec.DecodeWhole(input));
    }

    [Fact]
    public void UndecodableInputFailsEvenIfFollowedByValidMessages()
    {
        byte[] input = [6, 2, 5, 0, .. Codec.Encode(new AckLameDuck())];

        MessageAssert.BadArg(() => Codec.TryRead(input));
    }

    private static byte[] VarIntBytes(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }
}
