using System.Net;

namespace FlowOrleans.Silo.Http;

/// <summary>
/// The silo's HTTP port is taken: the silo refuses to start rather than run without the health endpoints its probes
/// need. The message is one line naming the setting, the value and the problem, for the program to print as it is.
/// </summary>
internal sealed class HttpPortInUseException(int port, IPEndPoint address, Exception innerException)
    : IOException($"Silo:HttpPort {port} is in use ({address} is taken by another process): stop that process or set Silo:HttpPort to a free port.", innerException)
{
    /// <summary>The setting whose value is taken.</summary>
    public const string Setting = "Silo:HttpPort";

    public int Port { get; } = port;
}
