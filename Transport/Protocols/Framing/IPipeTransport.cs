using System.IO.Pipelines;
using System.Net;

namespace FlowOrleans.Transport.Protocols.Framing;

/// <summary>
/// A byte-stream transport seen through pipes, below the framing. <see cref="IDuplexPipe.Input"/> and
/// <see cref="IDuplexPipe.Output"/> are the application ends: only their single user (the framing) completes them.
/// </summary>
internal interface IPipeTransport : IDuplexPipe, IAsyncDisposable
{
    EndPoint? LocalAddress { get; }

    EndPoint? RemoteAddress { get; }

    /// <summary>
    /// Bytes the transport has handed to the operating system so far, or null when bytes leave on flush
    /// (in-process pipes), in which case the framing counts flushed bytes itself.
    /// </summary>
    long? BytesSent { get; }

    /// <summary>
    /// Why the input ended, when it was not the peer's clean end of stream nor this side's own abort. The input pipe
    /// then still completes cleanly, so the frames received before the failure are read first (a pipe completed with an
    /// error throws it at once, dropping what it buffered: the peer's last words, such as its teardown, with it).
    /// </summary>
    FlowException? ReceiveError => null;

    /// <summary>
    /// Stops the underlying medium in both directions. Callable from any thread, so it must not complete the
    /// application ends (their user may be in the middle of a call); it only makes pending and later operations end.
    /// </summary>
    void Abort(Exception reason);
}
