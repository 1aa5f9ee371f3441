using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// The send half of a socket connection's I/O: a whole multi-segment buffer goes out in one gather send.
/// </summary>
internal sealed class SocketSender : SocketOperation
{
    private readonly List<ArraySegment<byte>> _segments = [];

    /// <summary>Sends all of <paramref name="buffers"/>; the socket completes stream sends only when every byte is out.</summary>
    public ValueTask<int> SendAsync(Socket socket, in ReadOnlySequence<byte> buffers)
    {
        Prepare();
        if (buffers.IsSingleSegment)
        {
            SetBuffer(MemoryMarshal.AsMemory(buffers.First));
        }
        else
        {
            foreach (ReadOnlyMemory<byte> segment in buffers)
            {
                if (!MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
                {
                    // Pipes over array pools always hand out arrays; anything else is a wiring mistake.
                    throw new InvalidOperationException("Gather sends need array-backed pipe memory.");
                }

                _segments.Add(array);
            }

            BufferList = _segments;
        }

        return Await(socket.SendAsync(this));
    }

    /// <summary>Drops the references to pipe memory once a send is done, so the pool can reuse it.</summary>
    public void Clear()
    {
        if (BufferList is not null)
        {
            BufferList = null;
            _segments.Clear();
        }
        else
        {
            SetBuffer(Memory<byte>.Empty);
        }
    }
}
