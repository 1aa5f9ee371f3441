using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>Dials <c>unix</c> addresses: stream sockets on a file-system path.</summary>
internal sealed class UnixDialer(FramingOptions options) : SocketDialer<UnixDomainSocketEndPoint>(options)
{
    protected override bool TryParse(
        string protocol,
        string address,
        [MaybeNullWhen(false)] out UnixDomainSocketEndPoint target,
        [NotNullWhen(false)] out string? problem) =>
        UnixProtocol.TryCreateEndPoint(address, out target, out problem);

    protected override ValueTask<Socket> ConnectAsync(UnixDomainSocketEndPoint target, CancellationToken cancellationToken) =>
        SocketConnections.ConnectAsync(target, ProtocolType.Unspecified, cancellationToken);
}
