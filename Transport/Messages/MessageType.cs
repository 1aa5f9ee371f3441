namespace FlowOrleans.Transport.Messages;

/// <summary>The type byte that starts every encoded message. Values are wire format: never renumber.</summary>
internal enum MessageType : byte
{
    Setup = 1,
    Auth = 2,
    OpenFlow = 3,
    Data = 4,
    Release = 5,
    HealthCheckRequest = 6,
    HealthCheckResponse = 7,
    EnterLameDuck = 8,
    AckLameDuck = 9,
    TearDown = 10,
    ProxyServerRequest = 11,
    ProxyResponse = 12,
    ProxyErrorResponse = 13,
    CloseFlow = 14,
    AuthAccepted = 15,
}
