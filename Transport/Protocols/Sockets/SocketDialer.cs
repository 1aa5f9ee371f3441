using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// The one dial path of the socket protocols (<c>tcp</c>, <c>unix</c>, <c>ws</c>; <c>wsh</c> dials through
/// <c>tcp</c>): check the protocol name and the address, connect a socket under the dial's deadline, make a framed
/// connection of it. Whatever fails, at whatever step, leaves no socket open and becomes the one error
/// <see cref="IProtocol.DialAsync"/> promises (<see cref="DialAttempt"/>). A protocol supplies only what differs:
/// what its addresses are, how it connects, and what it wraps the connected socket in.
/// </summary>
/// <typeparam name="TTarget">What an address parses to: everything connecting and wrapping need to know.</typeparam>
internal abstract class SocketDialer<TTarget>
{
    protected SocketDialer(FramingOptions options)
    {
        Options = options;
    }

    /// <summary>The protocol's validated framing options.</summary>
    protected FramingOptions Options { get; }

    /// <summary>Dials <paramref name="address"/> as <see cref="IProtocol.DialAsync"/> describes.</summary>
    public async ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        using var attempt = new DialAttempt(protocol, address, timeout, cancellationToken);
        Socket? socket = null;
        try
        {
            if (!TryParse(protocol, address, out TTarget? target, out string? problem))
            {
                throw attempt.Failure(problem);
            }

            socket = await ConnectAsync(target, attempt.Token).ConfigureAwait(false);
            return await WrapAsync(socket, protocol, target, attempt.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Closing twice is harmless, so a wrapper that already released the socket is no concern here.
            socket?.Dispose();
            throw attempt.Failure(e);
        }
    }

    /// <summary>Checks that the protocol name is one this dialer serves and parses the address.</summary>
    /// <param name="problem">Why the dial cannot start, for the error message.</param>
    protected abstract bool TryParse(
        string protocol,
        string address,
        [MaybeNullWhen(false)] out TTarget target,
        [NotNullWhen(false)] out string? problem);

    /// <summary>Connects a socket to <paramref name="target"/>; disposes any socket it made when it fails.</summary>
    protected abstract ValueTask<Socket> ConnectAsync(TTarget target, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a framed connection of the connected socket, which it then owns. When it fails it releases what it made;
    /// the dial closes the socket. Default: the length-prefix framing over the socket transport.
    /// </summary>
    protected virtual ValueTask<IFramedConnection> WrapAsync(Socket socket, string protocol, TTarget target, CancellationToken cancellationToken) =>
        new(SocketConnections.Frame(socket, protocol, Options));
}
