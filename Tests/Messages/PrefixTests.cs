using System.Buffers;
using CsCheck;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PrefixTests
{
    [Fact]
    public void EveryStrictPrefixNeedsMoreAndConsumesNothing()
    {
        Gen.Select(MessageGen.Any, MessageGen.Cuts).Sample((message, cuts) =>
        {
            ReadOnlySequence<byte> whole = Segments.SplitAtFractions(Codec.Encode(message), cuts);

            for (long length = 0; length < whole.Length; length++)
            {
                ReadOnlySequence<byte> prefix = whole.Slice(0, length);

                bool decoded = MessageCodec.TryRead(prefix, MessageCodec.DefaultMaxMessageSize, out Message? result, out SequencePosition consumed);

                Assert.False(decoded);
                Assert.Null(result);
                Assert.Equal(0, prefix.Slice(0, consumed).Length);
            }
        }, iter: 150);
    }

    [Fact]
    public void AMessageFollowedByAPrefixDecodesTheMessageAndStops()
    {
        Gen.Select(MessageGen.Any, MessageGen.Any, Gen.Double[0, 1]).Sample((first, second, fraction) =>
        {
            byte[] secondBytes = Codec.Encode(second);
            byte[] input = [.. Codec.Encode(first), .. secondBytes.AsSpan(0, (int)(fraction * (secondBytes.Length - 1)))];

            List<Message> decoded = Codec.DecodeAll(new ReadOnlySequence<byte>(input), out long remaining);

            Assert.Single(decoded);
            MessageAssert.Equal(first, decoded[0]);
            Assert.Equal(input.Length - Codec.Encode(first).Length, remaining);
        }, iter: 100);
    }
}
