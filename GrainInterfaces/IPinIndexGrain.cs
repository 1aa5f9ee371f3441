namespace FlowOrleans.GrainInterfaces;

/// <summary>The names of every pin of the cluster (one grain, key 0), so pins can be listed and re-checked.</summary>
[Alias("FlowOrleans.IPinIndexGrain")]
public interface IPinIndexGrain : IGrainWithIntegerKey, INameSetGrain;
