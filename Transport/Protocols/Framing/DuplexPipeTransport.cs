using System.IO.Pipelines;
using System.Net;

namespace FlowOrleans.Transport.Protocols.Framing;

/// <summary>
/// A transport made of a bare reader and writer with nothing underneath: used to frame raw pipes (tests, in-process
/// links). Aborting it can only cancel what is pending; the framing's own abort state does the rest.
/// </summary>
internal sealed class DuplexPipeTransport(
    PipeReader input,
    PipeWriter output,
    EndPoint? localAddress = null,
    EndPoint? remoteAddress = null) : IPipeTransport
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;

    public EndPoint? LocalAddress { get; } = localAddress;

    public EndPoint? RemoteAddress { get; } = remoteAddress;

    public long? BytesSent => null;

    public void Abort(Exception reason)
    {
        Input.CancelPendingRead();
        Output.CancelPendingFlush();
    }

    public ValueTask DisposeAsync()
    {
        Input.Complete();
        Output.Complete();
        return default;
    }
}
