using System.Net;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// What a side that ends a handshake tells its peer, and what it keeps. The peer learns the error code and a reason that
/// depends on the code alone; the full reason (an authorizer's patterns, which of the peer's names failed and why) is
/// this side's policy, so it goes to the local log and to the local caller's exception, never on the wire.
/// </summary>
internal static partial class Handshake
{
    private static TearDown Refusal(ConnectionSettings p, IFramedConnection connection, HandshakeRole role, FlowException error)
    {
        LogRefused(p.Logger, role, connection.RemoteAddress, error.Code, error.Message);
        return new TearDown(error.Code, GenericReason(error.Code, role));
    }

    /// <summary>The reason sent with a refusal: the same for every refusal with <paramref name="code"/>.</summary>
    internal static string GenericReason(FlowErrorCode code, HandshakeRole role)
    {
        var who = role == HandshakeRole.Acceptor ? "acceptor" : "dialer";
        return code switch
        {
            FlowErrorCode.NotTrusted => $"The {who} does not trust this peer.",
            FlowErrorCode.Auth => $"The {who} could not authenticate this peer.",
            FlowErrorCode.BadArg => $"The {who} received a malformed handshake message.",
            FlowErrorCode.BadState => $"The {who} shares no protocol version or cipher suite with this peer.",
            _ => $"The {who} ended the handshake.",
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused the handshake with {Remote} as the {Role}: {Code} {Reason}")]
    private static partial void LogRefused(ILogger logger, HandshakeRole role, EndPoint? remote, FlowErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Flows that {Remote} opens will be refused: {Code} {Reason}")]
    private static partial void LogFlowsRefused(ILogger logger, Endpoint remote, FlowErrorCode code, string reason);
}
