using System.Buffers;
using CsCheck;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class DataHeaderTests
{
    private static readonly Gen<byte[]> Payload = Gen.Frequency((4, Gen.Byte.Array[0, 200]), (1, Gen.Byte.Array[0, 70_000]));

    [Fact]
    public void DataHeaderPlusPayloadDecodesAsData()
    {
        Gen.Select(MessageGen.ULong, MessageGen.Flags, Payload).Sample((flowId, flags, payload) =>
        {
            byte[] frame = new byte[MessageCodec.MaxDataHeaderSize + payload.Length];
            int headerLength = MessageCodec.WriteDataHeader(frame, flowId, flags, payload.Length);
            payload.CopyTo(frame.AsSpan(headerLength));
            byte[] encoded = frame.AsSpan(0, headerLength + payload.Length).ToArray();

            Assert.Equal(MessageCodec.GetDataHeaderLength(flowId, payload.Length), headerLength);
            Assert.InRange(headerLength, 4, MessageCodec.MaxDataHeaderSize);
            var expected = new Data(flowId, flags, new ReadOnlySequence<byte>(payload));
            Assert.Equal(Codec.Encode(expected), encoded);
            MessageAssert.Equal(expected, Codec.DecodeWhole(encoded));
        }, iter: 300);
    }

    [Fact]
    public void OpenFlowHeaderPlusPayloadDecodesAsOpenFlow()
    {
        Gen.Select(MessageGen.ULong, MessageGen.ULong, MessageGen.Flags, Payload).Sample((flowId, credit, flags, payload) =>
        {
            byte[] frame = new byte[MessageCodec.MaxDataHeaderSize + payload.Length];
            int headerLength = MessageCodec.WriteOpenFlowHeader(frame, flowId, credit, flags, payload.Length);
            payload.CopyTo(frame.AsSpan(headerLength));
            byte[] encoded = frame.AsSpan(0, headerLength + payload.Length).ToArray();

            Assert.Equal(MessageCodec.GetOpenFlowHeaderLength(flowId, credit, payload.Length), headerLength);
            Assert.InRange(headerLength, 5, MessageCodec.MaxDataHeaderSize);
            var expected = new OpenFlow(flowId, credit, flags, new ReadOnlySequence<byte>(payload));
            Assert.Equal(Codec.Encode(expected), encoded);
            MessageAssert.Equal(expected, Codec.DecodeWhole(encoded));
        }, iter: 300);
    }

    [Fact]
    public void MaxDataHeaderSizeIsTheLargestHeaderEitherWriterProduces()
    {
        int largestPayload = int.MaxValue - 6 - 21; // The format's largest body, less the largest OpenFlow fields.
        Span<byte> destination = stackalloc byte[MessageCodec.MaxDataHeaderSize];

        Assert.Equal(
            MessageCodec.MaxDataHeaderSize,
            MessageCodec.WriteOpenFlowHeader(destination, ulong.MaxValue, ulong.MaxValue, DataFlags.Close, largestPayload));
        Assert.True(MessageCodec.WriteDataHeader(destination, ulong.MaxValue, DataFlags.Close, largestPayload + 10) < MessageCodec.MaxDataHeaderSize);
    }

    [Fact]
    public void HeaderWritersRejectBadFieldsWithBadArg()
    {
        byte[] destination = new byte[MessageCodec.MaxDataHeaderSize];

        MessageAssert.BadArg(() => MessageCodec.WriteDataHeader(destination, 1, (DataFlags)2, 0));
        MessageAssert.BadArg(() => MessageCodec.WriteDataHeader(destination, 1, DataFlags.None, -1));
        MessageAssert.BadArg(() => MessageCodec.WriteDataHeader(destination, 1, DataFlags.None, int.MaxValue));
        MessageAssert.BadArg(() => MessageCodec.WriteOpenFlowHeader(destination, 1, 1, (DataFlags)0x81, 0));
        MessageAssert.BadArg(() => MessageCodec.WriteOpenFlowHeader(destination, 1, 1, DataFlags.None, int.MinValue));
        MessageAssert.BadArg(() => MessageCodec.GetDataHeaderLength(1, -1));
        MessageAssert.BadArg(() => MessageCodec.GetOpenFlowHeaderLength(1, 1, int.MaxValue));
    }

    [Fact]
    public void HeaderWritersRejectADestinationTooSmall()
    {
        byte[] destination = new byte[MessageCodec.GetDataHeaderLength(1UL << 35, 1000) - 1];

        Assert.Throws<ArgumentException>(() => MessageCodec.WriteDataHeader(destination, 1UL << 35, DataFlags.None, 1000));
        Assert.Throws<ArgumentException>(() => MessageCodec.WriteOpenFlowHeader(new byte[4], 1, 1, DataFlags.None, 0));
    }
}
