using System.Buffers;
using System.Runtime.InteropServices;
using CsCheck;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class RoundTripTests
{
    public static TheoryData<string> MessageTypes => [.. MessageGen.ByType.Keys];

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void EveryTypeRoundTripsThroughRandomSegmentation(string type)
    {
        Gen.Select(MessageGen.ByType[type], MessageGen.Cuts).Sample((message, cuts) =>
        {
            byte[] encoded = Codec.Encode(message);
            Assert.Equal(MessageCodec.GetEncodedLength(message), encoded.Length);

            Message decoded = Codec.DecodeWhole(Segments.SplitAtFractions(encoded, cuts));

            MessageAssert.Equal(message, decoded);
        }, iter: 60);
    }

    [Fact]
    public void PiecewiseOutputWritesTheSameBytes()
    {
        Gen.Select(MessageGen.Any, Gen.Int[1, 9]).Sample((message, chunk) =>
        {
            var output = new ChunkedBufferWriter(chunk);
            MessageCodec.Write(output, message);

            Assert.Equal(Codec.Encode(message), output.WrittenBytes);
        }, iter: 200);
    }

    [Fact]
    public void MessagesPackedInOneRecordDecodeInOrder()
    {
        Gen.Select(MessageGen.Any.Array[1, 8], MessageGen.Cuts).Sample((messages, cuts) =>
        {
            ReadOnlySequence<byte> record = Segments.SplitAtFractions(Codec.Encode(messages), cuts);

            List<Message> decoded = Codec.DecodeAll(record, out long remaining);

            Assert.Equal(0, remaining);
            Assert.Equal(messages.Length, decoded.Count);
            for (int i = 0; i < messages.Length; i++)
            {
                MessageAssert.Equal(messages[i], decoded[i]);
            }
        }, iter: 100);
    }

    public static TheoryData<string> Representative => [.. _representativeMessages.Keys];

    [Theory]
    [MemberData(nameof(Representative))]
    public void DecodesWhenSplitAtEveryPosition(string name)
    {
        Message message = _representativeMessages[name];
        byte[] encoded = Codec.Encode(message);

        for (int i = 0; i <= encoded.Length; i++)
        {
            MessageAssert.Equal(message, Codec.DecodeWhole(Segments.Split(encoded, [i])));
        }
    }

    [Theory]
    [MemberData(nameof(Representative))]
    public void DecodesWhenSplitIntoThreeAtEveryPairOfPositions(string name)
    {
        Message message = _representativeMessages[name];
        byte[] encoded = Codec.Encode(message);

        for (int i = 0; i <= encoded.Length; i++)
        {
            for (int j = i; j <= encoded.Length; j++)
            {
                MessageAssert.Equal(message, Codec.DecodeWhole(Segments.Split(encoded, [i, j])));
            }
        }
    }

    [Fact]
    public void DecodedPayloadsAndByteFieldsAreSlicesOfTheInput()
    {
        byte[] encoded = Codec.Encode(
            new Data(7, DataFlags.None, new ReadOnlySequence<byte>([1, 2, 3])),
            new Auth(new ReadOnlySequence<byte>([4]), default, new ReadOnlySequence<byte>([5, 6])));
        var input = new ReadOnlySequence<byte>(encoded);

        Assert.True(MessageCodec.TryRead(input, MessageCodec.DefaultMaxMessageSize, out Message? first, out SequencePosition consumed));
        Assert.True(MessageCodec.TryRead(input.Slice(consumed), MessageCodec.DefaultMaxMessageSize, out Message? second, out _));

        AssertSliceOf(encoded, ((Data)first).Payload);
        AssertSliceOf(encoded, ((Auth)second).Blessings);
        AssertSliceOf(encoded, ((Auth)second).Signature);
    }

    [Fact]
    public void BodilessMessagesEncodeAsTwoBytes()
    {
        Assert.Equal([8, 0], Codec.Encode(new EnterLameDuck()));
        Assert.Equal([9, 0], Codec.Encode(new AckLameDuck()));
        Assert.Equal([11, 0], Codec.Encode(new ProxyServerRequest()));
    }

    [Fact]
    public void EncodingMatchesTheDocumentedLayout()
    {
        // CloseFlow: type 14, body 6 bytes: flow id 300 = AC 02, code NotTrusted = 2, reason "é" = length 2, C3 A9.
        Assert.Equal([14, 6, 0xAC, 0x02, 2, 2, 0xC3, 0xA9], Codec.Encode(new CloseFlow(300, "é") { Code = FlowErrorCode.NotTrusted }));

        // Release: type 5, count 2, (1, 128 = 80 01), (0, 0).
        Assert.Equal([5, 6, 2, 1, 0x80, 0x01, 0, 0], Codec.Encode(new Release([new(1, 128), new(0, 0)])));

        // Data: type 4, flow id, flags, then the payload with no length of its own.
        Assert.Equal([4, 4, 9, 1, 0xAA, 0xBB], Codec.Encode(new Data(9, DataFlags.Close, new ReadOnlySequence<byte>([0xAA, 0xBB]))));
    }

    private static void AssertSliceOf(byte[] buffer, ReadOnlySequence<byte> field)
    {
        Assert.True(field.IsSingleSegment);
        Assert.True(MemoryMarshal.TryGetArray(field.First, out ArraySegment<byte> segment));
        Assert.Same(buffer, segment.Array);
    }

    private static readonly Dictionary<string, Message> _representativeMessages = new()
    {
        ["setup"] = new Setup(
            1, 65535, new ReadOnlySequence<byte>([1, 2, 3, 4]), "@6@tcp@127.0.0.1:80@@0@m@@", "héllo ☃ 𝄞", 0xFFFF_FFFF,
            ulong.MaxValue, new ReadOnlySequence<byte>([1, 2]), new ReadOnlySequence<byte>(new byte[24])),
        ["data"] = new Data(1UL << 40, DataFlags.Close, new ReadOnlySequence<byte>(Enumerable.Range(0, 30).Select(i => (byte)i).ToArray())),
        ["openflow"] = new OpenFlow(129, 65536, DataFlags.None, new ReadOnlySequence<byte>([9, 8, 7])),
        ["release"] = new Release([new(1, 2), new(ulong.MaxValue, 16384), new(127, 128)]),
        ["proxy-response"] = new ProxyResponse(["a", "", "𝄞é☃", "@6@wsh@h:1@@@s@@"]),
        ["close-flow"] = new CloseFlow(ulong.MaxValue, "reset: 𝄞 ☃"),
    };
}
