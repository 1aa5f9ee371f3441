namespace FlowOrleans.Benchmarks.Grains;

/// <summary>Returns the message it was given: no state, no I/O, nothing but the call itself.</summary>
internal sealed class EchoGrain : Grain, IEchoGrain
{
    public Task<byte[]> EchoAsync(byte[] message) => Task.FromResult(message);
}
