using System.Net;
using System.Net.Sockets;
using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>Connecting stream sockets and framing connected ones; shared by the socket-based protocols.</summary>
internal static class SocketConnections
{
    /// <summary>Wraps a connected socket in the socket transport and the length-prefix framing.</summary>
    public static IFramedConnection Frame(Socket socket, string protocol, FramingOptions options)
    {
        var transport = new SocketTransport(socket, protocol, options);
        return new PipeFramedConnection(transport, protocol, options.MaxFrameSize);
    }

    /// <summary>Connects a new stream socket to <paramref name="endPoint"/>; the socket is disposed on failure.</summary>
    public static async ValueTask<Socket> ConnectAsync(EndPoint endPoint, ProtocolType protocolType, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, protocolType);
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Socket options for TCP connections, dialed or accepted.</summary>
    public static void ConfigureTcp(Socket socket)
    {
        // Frames are flushed deliberately and coalesced by the pipe; Nagle would only add latency.
        socket.NoDelay = true;

        // As Vanadium does: notice peers that vanished without closing.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
    }
}
