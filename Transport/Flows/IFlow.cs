using System.Net;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// A flow-controlled, authenticated, bidirectional byte stream multiplexed over a connection
/// (Vanadium's <c>flow.Flow</c>). One reader and one writer at a time; reading and writing may run concurrently.
/// Disposing closes the write side gracefully (every byte already written is delivered) and stops reading; disposing
/// while a write is under way (on another thread, or one not yet resumed) resets the flow instead, so the peer never
/// takes a cut-off stream for a finished one.
/// </summary>
public interface IFlow : IAsyncDisposable
{
    /// <summary>Identifier of the flow on its connection (odd: opened by the dialer; even: by the acceptor).</summary>
    ulong Id { get; }

    /// <summary>Reads at most <paramref name="buffer"/>.Length bytes; 0 means the peer closed its side (end of stream).</summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Writes all of <paramref name="data"/>; completes once the bytes are handed to the connection.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the next message: the bytes of one data frame. Boundaries match the writer's messages when the writer
    /// disabled fragmentation; otherwise long messages arrive in MTU-sized pieces. Null at end of stream.
    /// </summary>
    ValueTask<byte[]?> ReadMessageAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the next message like <see cref="ReadMessageAsync(CancellationToken)"/>, into <paramref name="buffer"/>
    /// when it fits (Vanadium's <c>ReadMsg2</c>), so a reader of many messages reuses one buffer instead of allocating
    /// each. A message larger than the buffer comes in a new array, so always use the memory returned: the message
    /// itself, never a partial one. Null at end of stream.
    /// </summary>
    ValueTask<Memory<byte>?> ReadMessageAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the buffers back to back as one message. Returns the bytes written, their total length (Vanadium's
    /// <c>WriteMsg</c> count); a write that cannot deliver all of them throws instead.
    /// </summary>
    ValueTask<int> WriteMessageAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default);

    /// <summary>Writes the buffers as one message, then closes the write side. Returns the bytes written, as <see cref="WriteMessageAsync"/>.</summary>
    ValueTask<int> WriteMessageAndCloseAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default);

    /// <summary>Closes the write side: the peer reads to the end of what was written, then sees end of stream.</summary>
    ValueTask CloseWriteAsync(CancellationToken cancellationToken = default);

    /// <summary>After <paramref name="deadline"/> the flow is aborted: pending and later operations fail with <see cref="FlowErrorCode.Aborted"/>.</summary>
    void SetDeadline(DateTimeOffset deadline);

    /// <summary>Sends each later message as exactly one frame (at most 64 KiB), so the reader sees the same boundaries.</summary>
    void DisableFragmentation();

    /// <summary>A <see cref="Stream"/> over this flow; disposing the stream disposes the flow.</summary>
    Stream AsStream();

    Endpoint LocalEndpoint { get; }

    Endpoint RemoteEndpoint { get; }

    /// <summary>
    /// The network address the connection's bytes come from (Vanadium's <c>RemoteAddr</c>): the peer's for a direct
    /// connection, the proxy's for one through a proxy; null for protocols without addresses. For logs and policies
    /// that go by address; the peer's identity is <see cref="RemoteBlessings"/>.
    /// </summary>
    EndPoint? RemoteAddress { get; }

    Blessings LocalBlessings { get; }

    Blessings RemoteBlessings { get; }

    Discharges LocalDischarges { get; }

    Discharges RemoteDischarges { get; }

    /// <summary>The connection the flow is multiplexed on.</summary>
    IManagedConnection Connection { get; }

    /// <summary>Completes when the flow is closed in both directions or aborted.</summary>
    Task Closed { get; }
}
