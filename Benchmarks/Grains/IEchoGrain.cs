namespace FlowOrleans.Benchmarks.Grains;

/// <summary>
/// The benchmark's reference grain: a plain call that returns its argument, for the round trip an Orleans client pays
/// for any grain call, against which the relay's round trip is read. Grain interfaces must be public for Orleans'
/// generated proxies.
/// </summary>
[Alias("FlowOrleans.Benchmarks.IEchoGrain")]
public interface IEchoGrain : IGrainWithIntegerKey
{
    [Alias("Echo")]
    Task<byte[]> EchoAsync(byte[] message);
}
