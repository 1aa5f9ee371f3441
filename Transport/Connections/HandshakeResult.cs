using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Connections;

/// <summary>Everything a finished handshake established: the session's ciphers and who the two sides proved to be.</summary>
internal sealed class HandshakeResult
{
    public required HandshakeRole Role { get; init; }
    public required ushort Version { get; init; }
    public required RecordCipher SendCipher { get; init; }
    public required RecordCipher ReceiveCipher { get; init; }
    public required Endpoint LocalEndpoint { get; init; }
    public required Endpoint RemoteEndpoint { get; init; }
    public required Blessings LocalBlessings { get; init; }
    public required Discharges LocalDischarges { get; init; }
    public required Blessings RemoteBlessings { get; init; }
    public required Discharges RemoteDischarges { get; init; }
    public required IReadOnlyList<string> RemoteBlessingNames { get; init; }
    public required uint RemoteMtu { get; init; }
    public required ulong RemoteSharedCredit { get; init; }

    /// <summary>Whether flows the peer opens may be delivered (<see cref="ConnectionSettings.AcceptorAuthorizer"/>'s verdict).</summary>
    public required bool PeerMayOpenFlows { get; init; }

    /// <summary>When the first of the blessing names the peer was accepted under expires; null if none does.</summary>
    public required DateTimeOffset? PeerTrustedUntil { get; init; }
}
