using System.Buffers;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

/// <summary>Small conveniences over <see cref="MessageCodec"/> for tests.</summary>
internal static class Codec
{
    public static byte[] Encode(Message message)
    {
        var output = new ArrayBufferWriter<byte>();
        MessageCodec.Write(output, message);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Encode(params IEnumerable<Message> messages)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (Message message in messages)
        {
            MessageCodec.Write(output, message);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes the one message <paramref name="input"/> must hold exactly.</summary>
    public static Message DecodeWhole(ReadOnlySequence<byte> input, int maxMessageSize = MessageCodec.DefaultMaxMessageSize)
    {
        Assert.True(MessageCodec.TryRead(input, maxMessageSize, out Message? message, out SequencePosition consumed));
        Assert.Equal(input.Length, input.Slice(0, consumed).Length);
        return message;
    }

    public static Message DecodeWhole(byte[] input, int maxMessageSize = MessageCodec.DefaultMaxMessageSize)
        => DecodeWhole(new ReadOnlySequence<byte>(input), maxMessageSize);

    /// <summary>Decodes messages until the input needs more; returns them and the bytes left over.</summary>
    public static List<Message> DecodeAll(ReadOnlySequence<byte> input, out long remaining, int maxMessageSize = MessageCodec.DefaultMaxMessageSize)
    {
        var messages = new List<Message>();
        while (MessageCodec.TryRead(input, maxMessageSize, out Message? message, out SequencePosition consumed))
        {
            messages.Add(message);
            input = input.Slice(consumed);
        }

        remaining = input.Length;
        return messages;
    }

    /// <summary>Runs TryRead over a byte array and reports whether it needs more (false) or decoded (true).</summary>
    public static bool TryRead(byte[] input, int maxMessageSize = MessageCodec.DefaultMaxMessageSize)
        => MessageCodec.TryRead(new ReadOnlySequence<byte>(input), maxMessageSize, out _, out _);
}
