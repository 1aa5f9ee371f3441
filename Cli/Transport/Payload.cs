using System.Text;

namespace FlowOrleans.Cli.Transport;

/// <summary>
/// What a dial sends: a message, a file or random bytes. It can be read twice from the start (once to send,
/// once to check the echo against), so nothing of a large payload is held in memory.
/// </summary>
internal sealed class Payload
{
    private readonly Func<Stream> _open;

    private Payload(long length, string description, string? text, Func<Stream> open)
    {
        Length = length;
        Description = description;
        Text = text;
        _open = open;
    }

    public long Length { get; }

    /// <summary>For people: "12 bytes of text", "4.0 MiB from data.bin".</summary>
    public string Description { get; }

    /// <summary>The message, for a text payload; its reply is printed as text.</summary>
    public string? Text { get; }

    /// <summary>A new stream over the payload from its first byte.</summary>
    public Stream Open() => _open();

    public static Payload FromText(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return new Payload(bytes.Length, $"{bytes.Length} bytes of text", text, () => new MemoryStream(bytes, writable: false));
    }

    public static Payload FromFile(string path)
    {
        var length = new FileInfo(path).Length;
        return new Payload(length, $"{Bytes.Format(length)} from {path}", null,
            () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true));
    }

    public static Payload Random(long length, ulong seed) =>
        new(length, $"{Bytes.Format(length)} of random bytes", null, () => new RandomBytesStream(length, seed));
}
