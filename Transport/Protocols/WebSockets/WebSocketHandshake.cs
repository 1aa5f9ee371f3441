using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Transport.Protocols.WebSockets;

/// <summary>
/// The server side of the RFC 6455 opening handshake: just enough HTTP/1.1 to read one GET upgrade request and
/// answer 101, or answer an error status and refuse. Anything else a web server does is out of scope.
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>A request head larger than this is refused (431) rather than buffered.</summary>
    public const int MaxRequestHeadSize = 8 * 1024;

    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    /// <summary>Reads the upgrade request from the transport, answers it, and returns the server WebSocket.</summary>
    /// <exception cref="FlowException">BadArg when the request is refused (the error response has been sent); Network when the peer left.</exception>
    public static async ValueTask<WebSocket> AcceptAsync(IPipeTransport transport, TransportStream stream, CancellationToken cancellationToken)
    {
        string head = await ReadHeadAsync(transport, cancellationToken).ConfigureAwait(false);
        if (Validate(head, out string? key) is { } refusal)
        {
            await RespondAsync(transport.Output, refusal.Response, cancellationToken).ConfigureAwait(false);
            throw new FlowException(FlowErrorCode.BadArg, $"Refused a WebSocket upgrade from {transport.RemoteAddress}: {refusal.Reason}.");
        }

        // Through the stream, so its byte count (behind PendingWriteBytes) includes the answer.
        string switching =
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {AcceptValue(key!)}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(switching), cancellationToken).ConfigureAwait(false);

        return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,

            // The flow layer runs its own health checks; WebSocket pings would only add traffic.
            KeepAliveInterval = TimeSpan.Zero,
        });
    }

    /// <summary>The Sec-WebSocket-Accept value for a client key (RFC 6455 section 4.2.2).</summary>
    public static string AcceptValue(string key)
    {
        // SHA-1 is what RFC 6455 prescribes here; it proves the server read the key, it protects nothing.
#pragma warning disable CA5350
        byte[] hash = SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid));
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }

    private static async ValueTask<string> ReadHeadAsync(IPipeTransport transport, CancellationToken cancellationToken)
    {
        PipeReader input = transport.Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, EndOfHead, advancePastDelimiter: true) &&
                head.Length <= MaxRequestHeadSize)
            {
                string text = Encoding.Latin1.GetString(head);

                // Bytes after the head already belong to the WebSocket; they stay in the pipe for it.
                input.AdvanceTo(reader.Position);
                return text;
            }

            if (buffer.Length > MaxRequestHeadSize + EndOfHead.Length)
            {
                input.AdvanceTo(buffer.Start);
                await RespondAsync(transport.Output, Status(431, "Request Header Fields Too Large"), cancellationToken).ConfigureAwait(false);
                throw new FlowException(FlowErrorCode.BadArg, $"Refused a WebSocket upgrade from {transport.RemoteAddress}: request head above {MaxRequestHeadSize} bytes.");
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.End);
                throw new FlowException(FlowErrorCode.Network, $"The connection from {transport.RemoteAddress} ended during the WebSocket handshake.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static (string Response, string Reason)? Validate(string head, out string? key)
    {
        key = null;
        string[] lines = head.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[1].StartsWith('/') || requestLine[2] != "HTTP/1.1")
        {
            return (Status(400, "Bad Request"), "malformed request line");
        }

        if (requestLine[0] != "GET")
        {
            return (Status(405, "Method Not Allowed", "Allow: GET\r\n"), $"method {requestLine[0]}");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return (Status(400, "Bad Request"), "malformed header line");
            }

            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out string? earlier) ? $"{earlier}, {value}" : value;
        }

        if (!HasToken(headers, "Upgrade", "websocket") || !HasToken(headers, "Connection", "upgrade"))
        {
            return (Status(400, "Bad Request"), "not a WebSocket upgrade");
        }

        if (!headers.TryGetValue("Sec-WebSocket-Version", out string? version) || version != "13")
        {
            return (Status(426, "Upgrade Required", "Sec-WebSocket-Version: 13\r\n"), $"WebSocket version {version ?? "missing"}");
        }

        if (!headers.TryGetValue("Sec-WebSocket-Key", out key) || !IsValidKey(key))
        {
            return (Status(400, "Bad Request"), "missing or malformed Sec-WebSocket-Key");
        }

        return null;
    }

    private static bool HasToken(Dictionary<string, string> headers, string name, string token) =>
        headers.TryGetValue(name, out string? value) &&
        value.Split(',').Any(part => part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase));

    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out int length) && length == 16;
    }

    private static string Status(int code, string reason, string extraHeaders = "") =>
        $"HTTP/1.1 {code} {reason}\r\n{extraHeaders}Connection: close\r\nContent-Length: 0\r\n\r\n";

    private static async ValueTask RespondAsync(PipeWriter output, string response, CancellationToken cancellationToken)
    {
        output.Write(Encoding.ASCII.GetBytes(response));
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
