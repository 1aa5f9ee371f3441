using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>The receive half of a socket connection's I/O.</summary>
internal sealed class SocketReceiver : SocketOperation
{
    /// <summary>
    /// Completes when data is readable without holding a buffer, so idle connections pin no pooled memory.
    /// </summary>
    public ValueTask<int> WaitForDataAsync(Socket socket)
    {
        Prepare();
        SetBuffer(Memory<byte>.Empty);
        return Await(socket.ReceiveAsync(this));
    }

    public ValueTask<int> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        Prepare();
        SetBuffer(buffer);
        return Await(socket.ReceiveAsync(this));
    }

    /// <summary>Drops the reference to pipe memory once a receive is done.</summary>
    public void Clear() => SetBuffer(Memory<byte>.Empty);
}
