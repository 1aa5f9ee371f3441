using System.Buffers;
using CsCheck;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class VarIntTests
{
    [Fact]
    public void LengthMatchesWhatIsWrittenAndReadBack()
    {
        MessageGen.ULong.Sample(value =>
        {
            byte[] buffer = new byte[VarInt.MaxLength];
            int written = VarInt.Write(buffer, value);

            Assert.Equal(VarInt.GetLength(value), written);
            Assert.Equal(value, Read(buffer.AsSpan(0, written).ToArray(), ulong.MaxValue, out int consumed));
            Assert.Equal(written, consumed);
        }, iter: 2000);
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(127UL, 1)]
    [InlineData(128UL, 2)]
    [InlineData(16383UL, 2)]
    [InlineData(16384UL, 3)]
    [InlineData(int.MaxValue, 5)]
    [InlineData(1UL << 63, 10)]
    [InlineData(ulong.MaxValue, 10)]
    public void LengthsAtTheBoundaries(ulong value, int length)
    {
        Assert.Equal(length, VarInt.GetLength(value));
    }

    [Fact]
    public void ReadsAcrossSegmentsAtEverySplit()
    {
        byte[] encoded = new byte[VarInt.MaxLength];
        int length = VarInt.Write(encoded, 0x0123_4567_89AB_CDEF);
        encoded = encoded[..length];

        for (int i = 0; i <= length; i++)
        {
            for (int j = i; j <= length; j++)
            {
                var reader = new SequenceReader<byte>(Segments.Split(encoded, [i, j]));
                Assert.Equal(VarIntStatus.Done, VarInt.TryRead(ref reader, ulong.MaxValue, out ulong value));
                Assert.Equal(0x0123_4567_89AB_CDEFUL, value);
                Assert.Equal(length, reader.Consumed);
            }
        }
    }

    [Theory]
    [InlineData(new byte[] { }, nameof(VarIntStatus.Incomplete))]
    [InlineData(new byte[] { 0x80 }, nameof(VarIntStatus.Incomplete))]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, nameof(VarIntStatus.Incomplete))]
    [InlineData(new byte[] { 0x80, 0x00 }, nameof(VarIntStatus.Malformed))]
    [InlineData(new byte[] { 0xFF, 0xFF, 0x00 }, nameof(VarIntStatus.Malformed))]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 }, nameof(VarIntStatus.Malformed))]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81 }, nameof(VarIntStatus.Malformed))]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, nameof(VarIntStatus.Malformed))]
    public void RejectsOverlongAndOverflowingEncodings(byte[] input, string expected)
    {
        // The status travels as a name: theory parameters of public tests cannot have internal types.
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));

        Assert.Equal(Enum.Parse<VarIntStatus>(expected), VarInt.TryRead(ref reader, ulong.MaxValue, out _));
        Assert.Equal(0, reader.Consumed);
    }

    [Theory]
    [InlineData(new byte[] { 101 }, 100UL)]       // Complete and above.
    [InlineData(new byte[] { 0x80 }, 127UL)]      // Incomplete, but at least 128.
    [InlineData(new byte[] { 0xFF, 0x80 }, 16383UL)] // Incomplete, but at least 16384 + 127.
    public void ReportsAboveLimitAsSoonAsTheBytesProveIt(byte[] input, ulong max)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));

        Assert.Equal(VarIntStatus.AboveLimit, VarInt.TryRead(ref reader, max, out _));
    }

    [Fact]
    public void AcceptsValuesAtTheLimit()
    {
        Assert.Equal(100UL, Read([100], 100, out _));
        Assert.Equal(16384UL, Read([0x80, 0x80, 0x01], 16384, out _));
    }

    private static ulong Read(byte[] input, ulong max, out int consumed)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
        Assert.Equal(VarIntStatus.Done, VarInt.TryRead(ref reader, max, out ulong value));
        consumed = (int)reader.Consumed;
        return value;
    }
}
