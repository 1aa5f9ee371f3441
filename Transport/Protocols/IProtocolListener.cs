using System.Net;

namespace FlowOrleans.Transport.Protocols;

/// <summary>Accepts framed connections on one bound address: the C# form of Vanadium's <c>flow.Listener</c>.</summary>
public interface IProtocolListener : IAsyncDisposable
{
    /// <summary>The protocol the listener was created with.</summary>
    string Protocol { get; }

    /// <summary>The bound address as a string that can be dialed, e.g. <c>127.0.0.1:40123</c> (the real port when 0 was asked).</summary>
    string Address { get; }

    /// <summary>The bound network address, when the protocol has one.</summary>
    EndPoint? LocalAddress { get; }

    /// <summary>Accepts the next connection.</summary>
    /// <exception cref="FlowException">
    /// <see cref="FlowErrorCode.Aborted"/> once the listener is disposed (pending calls included) or on cancellation;
    /// <see cref="FlowErrorCode.Network"/> when accepting fails.
    /// </exception>
    ValueTask<IFramedConnection> AcceptAsync(CancellationToken cancellationToken = default);
}
