using FlowOrleans.Transport;
using System.Buffers;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EncoderValidationTests
{
    public static TheoryData<string, Message> Unencodable => new()
    {
        { "unknown data flag", new Data(1, (DataFlags)2, default) },
        { "unknown open flow flag", new OpenFlow(1, 1, (DataFlags)0x80, default) },
        { "release without credits", new Release([]) },
        { "release with null credits", new Release(null!) },
        { "null teardown reason", new TearDown(FlowErrorCode.Network, null!) },
        { "null proxy error", new ProxyErrorResponse(null!) },
        { "null close reason", new CloseFlow(1, null!) },
        { "undefined close code", new CloseFlow(1, "x") { Code = (FlowErrorCode)42 } },
        { "null endpoint list", new ProxyResponse(null!) },
        { "null endpoint", new ProxyResponse(["a", null!]) },
        { "null setup endpoint", new Setup(1, 1, default, null!, "", 0, 0, default, default) },
        { "lone high surrogate", new TearDown(FlowErrorCode.Network, "ab\uD800c") },
        { "lone low surrogate", new Setup(1, 1, default, "", "\uDC00", 0, 0, default, default) },
        { "reversed surrogate pair", new ProxyResponse(["\uDC00\uD800"]) },
    };

    [Theory]
    [MemberData(nameof(Unencodable))]
    public void UnencodableMessagesAreBadArgAndWriteNothing(string because, Message message)
    {
        Assert.NotNull(because);
        var output = new ArrayBufferWriter<byte>();

        MessageAssert.BadArg(() => MessageCodec.Write(output, message));
        MessageAssert.BadArg(() => MessageCodec.GetEncodedLength(message));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void BodyTooLargeForTheFormatIsBadArg()
    {
        ReadOnlySequence<byte> huge = Segments.ClaimingLength(int.MaxValue + 1L);

        MessageAssert.BadArg(() => MessageCodec.GetEncodedLength(new Data(1, DataFlags.None, huge)));
        MessageAssert.BadArg(() => MessageCodec.Write(new ArrayBufferWriter<byte>(), new Auth(default, huge, default)));
    }

    [Fact]
    public void NullArgumentsAreArgumentErrors()
    {
        Assert.Throws<ArgumentNullException>(() => MessageCodec.Write(null!, new AckLameDuck()));
        Assert.Throws<ArgumentNullException>(() => MessageCodec.Write(new ArrayBufferWriter<byte>(), null!));
        Assert.Throws<ArgumentNullException>(() => MessageCodec.GetEncodedLength(null!));
    }
}
