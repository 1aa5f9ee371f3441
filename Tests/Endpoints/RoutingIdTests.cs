using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Tests.Endpoints;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class RoutingIdTests
{
    private static readonly RoutingId Sample = new(0x0123456789abcdef, 0xfedcba9876543210);

    [Fact]
    public void NullIsAllZerosAndTheDefault()
    {
        Assert.True(RoutingId.Null.IsNull);
        Assert.Equal(default, RoutingId.Null);
        Assert.Equal(new string('0', 32), RoutingId.Null.ToString());
        Assert.False(new RoutingId(0, 1).IsNull);
        Assert.False(new RoutingId(1, 0).IsNull);
    }

    [Fact]
    public void PrintsThirtyTwoLowercaseHexDigitsHighBitsFirst()
    {
        Assert.Equal("0123456789abcdeffedcba9876543210", Sample.ToString());
        Assert.Equal("0000000000000000000000000000ba77", new RoutingId(0, 0xba77).ToString());
        Assert.Equal("0123456789abcdeffedcba9876543210", $"{Sample}");
        Assert.Equal("0123456789abcdeffedcba9876543210", Sample.ToString(null, null));
    }

    [Theory]
    [InlineData("0123456789abcdeffedcba9876543210")]
    [InlineData("0123456789ABCDEFFEDCBA9876543210")]
    [InlineData("0123456789aBcDeFfEdCbA9876543210")]
    public void ParsesEitherHexCase(string text)
    {
        Assert.Equal(Sample, RoutingId.Parse(text));
        Assert.True(RoutingId.TryParse(text, out var parsed));
        Assert.Equal(Sample, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789abcdeffedcba987654321")]
    [InlineData("0123456789abcdeffedcba98765432100")]
    [InlineData("0123456789abcdeffedcba987654321g")]
    [InlineData(" 123456789abcdeffedcba9876543210")]
    [InlineData("0123456789abcdeffedcba987654321 ")]
    [InlineData("0x23456789abcdeffedcba9876543210")]
    [InlineData("+123456789abcdeffedcba9876543210")]
    [InlineData("-123456789abcdeffedcba9876543210")]
    [InlineData("0123456789abcdef-edcba9876543210")]
    [InlineData("０123456789abcdeffedcba9876543210")]
    [InlineData("٠123456789abcdeffedcba9876543210")]
    public void RejectsAnythingButThirtyTwoHexDigits(string text)
    {
        Assert.False(RoutingId.TryParse(text, out var parsed));
        Assert.Equal(RoutingId.Null, parsed);
        var error = Assert.Throws<FlowException>(() => RoutingId.Parse(text));
        Assert.Equal(FlowErrorCode.BadArg, error.Code);
        Assert.Contains("routing id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseOfNullThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => RoutingId.Parse(null!));
    }

    [Fact]
    public void WritesSixteenBigEndianBytesAndReadsThemBack()
    {
        var bytes = new byte[RoutingId.Size];
        Sample.WriteTo(bytes);
        Assert.Equal(
            new byte[] { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 },
            bytes);
        Assert.Equal(Sample, RoutingId.Read(bytes));
    }

    [Fact]
    public void ReadTakesTheFirstSixteenBytesOfALongerBuffer()
    {
        var bytes = new byte[RoutingId.Size + 4];
        bytes.AsSpan().Fill(0xEE);
        Sample.WriteTo(bytes);
        Assert.Equal(Sample, RoutingId.Read(bytes));
        Assert.Equal(0xEE, bytes[RoutingId.Size]);
    }

    [Fact]
    public void ReadOfTooFewBytesIsBadArg()
    {
        var error = Assert.Throws<FlowException>(() => RoutingId.Read(new byte[RoutingId.Size - 1]));
        Assert.Equal(FlowErrorCode.BadArg, error.Code);
    }

    [Fact]
    public void WriteToTooSmallDestinationThrows()
    {
        Assert.Throws<ArgumentException>(() => Sample.WriteTo(new byte[RoutingId.Size - 1]));
    }

    [Fact]
    public void TryFormatNeedsRoomForThirtyTwoChars()
    {
        Span<char> small = stackalloc char[31];
        Assert.False(Sample.TryFormat(small, out var written, default, null));
        Assert.Equal(0, written);

        Span<char> exact = stackalloc char[32];
        Assert.True(Sample.TryFormat(exact, out written, default, null));
        Assert.Equal(32, written);
        Assert.Equal(Sample.ToString(), exact.ToString());
    }

    [Fact]
    public void UnknownFormatStringsAreRejected()
    {
        Assert.Throws<FormatException>(() => Sample.ToString("N", null));
        var buffer = new char[32];
        Assert.Throws<FormatException>(() => Sample.TryFormat(buffer, out _, "x", null));
    }

    [Fact]
    public void NewRandomIsNeverNullOrReservedAndDoesNotRepeat()
    {
        var seen = new HashSet<RoutingId>();
        for (var i = 0; i < 1000; i++)
        {
            var id = RoutingId.NewRandom();
            Assert.False(id.IsNull);
            Assert.False(id.IsReserved);
            Assert.True(seen.Add(id));
        }
    }

    [Fact]
    public void ReservedRangeIsTheLowFixedIds()
    {
        Assert.True(RoutingId.Null.IsReserved);
        Assert.True(new RoutingId(0, 1023).IsReserved);
        Assert.False(new RoutingId(0, 1024).IsReserved);
        Assert.False(new RoutingId(1, 0).IsReserved);
    }

    [Fact]
    public void RandomIdsSurviveTextAndWireRoundTrips()
    {
        Span<byte> bytes = stackalloc byte[RoutingId.Size];
        for (var i = 0; i < 100; i++)
        {
            var id = RoutingId.NewRandom();
            Assert.Equal(id, RoutingId.Parse(id.ToString()));
            id.WriteTo(bytes);
            Assert.Equal(id, RoutingId.Read(bytes));
        }
    }

    [Fact]
    public void EqualityComparesAllBits()
    {
        var same = new RoutingId(Sample.High, Sample.Low);
        Assert.True(Sample == same);
        Assert.False(Sample != same);
        Assert.True(Sample.Equals((object)same));
        Assert.Equal(Sample.GetHashCode(), same.GetHashCode());

        Assert.NotEqual(Sample, new RoutingId(Sample.High, Sample.Low ^ 1));
        Assert.NotEqual(Sample, new RoutingId(Sample.High ^ (1UL << 63), Sample.Low));
        Assert.True(Sample != new RoutingId(Sample.Low, Sample.High));
        Assert.False(Sample.Equals("0123456789abcdeffedcba9876543210"));
    }
}
